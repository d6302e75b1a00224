//go:build !unix

package tflite

import "os"

// mapFile reads the file at path into memory (no mmap on this platform).
func mapFile(path string) (data []byte, release func(), err error) {
	data, err = os.ReadFile(path)
	return data, func() {}, err
}
