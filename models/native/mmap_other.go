//go:build !unix

package native

import "io"

// mapFile reads path into memory where mmap is not available.
func mapFile(path string) ([]byte, func() error, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
