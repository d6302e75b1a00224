package native

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// Load maps the .eim file at path read-only and decodes it after verifying
// the header, the section table and every section's checksum. The model's
// tensor data aliases the mapping — no copy, no heap — so the tensors are
// valid only until the returned io.Closer is closed. Close it after the
// last use of the model and of anything prepared from it (a runtime.Model
// shares the graph's tensors). Names, labels and metadata are copies and
// stay valid.
//
// The mapping is of the file as it was opened: replacing the file with
// Write (a rename) does not disturb it, but truncating or rewriting the
// file in place while it is loaded is undefined (the process may receive
// SIGBUS). On platforms without mmap the file is read into memory.
func Load(path string) (*Model, io.Closer, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := decode(data)
	if err != nil {
		unmap()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Graph.Source = path
	return m, &mapping{data: data, unmap: unmap}, nil
}

// mapping keeps a loaded file's bytes alive until Close.
type mapping struct {
	data  []byte
	unmap func() error
	once  sync.Once
	err   error
}

// Close releases the mapping. It is safe to call more than once.
func (m *mapping) Close() error {
	m.once.Do(func() {
		m.err = m.unmap()
		m.data = nil
	})
	return m.err
}

// openRegular opens path and returns its size, refusing what is not a
// regular file or does not fit the address space.
func openRegular(path string) (*os.File, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > int64(maxInt) {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %d bytes do not fit the address space", path, st.Size())
	}
	return f, int(st.Size()), nil
}
