//go:build !amd64 || purego

package asm

// q8ArchTilePixels reports whether the arch tiles size QConv2D's im2col
// tile themselves (q8TilePixelsArch): not outside amd64's avx2 path.
const q8ArchTilePixels = false

func q8TilePixelsArch(pixels, kg, workers int) int { panic("asm: q8TilePixelsArch without arch tiles") }
