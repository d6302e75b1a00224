//go:build !amd64 || purego

package asm

// q8ArchTilePixels reports whether the arch tiles size QConv2D's im2col
// tile themselves (q8TilePixelsArch): not outside amd64's avx2 path.
const q8ArchTilePixels = false

func q8TilePixelsArch(pixels, kg, workers int) int { panic("asm: q8TilePixelsArch without arch tiles") }

// The Winograd convolution is amd64's (q8wino_amd64.go).
func q8PackWinoArch(c *QConv2D, w []int8, wZero, bias []int32, np *q8ArchPacked) int { return 0 }
func q8WinoTilePixels(c *QConv2D) int                                                { return 0 }
func q8WinoScratchBytes(c *QConv2D) int                                              { return 0 }

// The fused parameter tables are amd64's (q8gemm_avx2_amd64.go).
func q8Avx2Tables(c *QConv2D, p *QPacked, np *q8ArchPacked) {}
