//go:build purego || !arm64

package asm

// q8ArchPacked has no arm64 layout in this build.
type q8ArchPacked struct{}

// q8PackArch returns nil: only the generic int8 body exists in this build.
func q8PackArch(p *QPacked, groups int) *q8ArchPacked { return nil }
