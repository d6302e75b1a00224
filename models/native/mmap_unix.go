//go:build unix

package native

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// mapFile maps path read-only. An empty file gets an empty slice (mmap
// refuses length 0), which decoding then rejects.
func mapFile(path string) ([]byte, func() error, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	if size == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
