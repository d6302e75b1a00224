// Package a64 holds the pieces shared by the arm64 NEON kernel generators
// in asm/ (gen_neon.go, gen_dwneon.go, gen_q8add.go, gen_q8pool.go): an
// assembly text buffer that records the WORD encodings it emits, and
// encoders for the Advanced SIMD instructions that Go's arm64 assembler
// lacks.
//
// Each encoder computes the instruction word from the Arm ARM field
// layouts and emits
//
//	WORD $0x…  // <GNU mnemonic>
//
// recording the pair for the generator's golden list (testdata/*_words.golden),
// which TestWordEncodings checks against llvm-mc.
package a64

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Asm is a buffer of generated assembly text. Words, when not nil, maps
// each GNU mnemonic emitted with Word to its hex encoding; several Asm may
// share one map (one golden list per generator).
type Asm struct {
	b     bytes.Buffer
	words map[string]string
}

// New returns an empty buffer recording WORD encodings into words, which
// may be nil for a buffer that never calls Word (amd64 output).
func New(words map[string]string) *Asm { return &Asm{words: words} }

// P appends one line: format and args as for fmt.Printf, plus a newline.
func (a *Asm) P(format string, args ...any) { fmt.Fprintf(&a.b, format+"\n", args...) }

// WriteString appends s verbatim.
func (a *Asm) WriteString(s string) { a.b.WriteString(s) }

// Words returns the map of WORD encodings a records into (shared with
// another buffer built with New(a.Words())).
func (a *Asm) Words() map[string]string { return a.words }

// Bytes returns the text written so far.
func (a *Asm) Bytes() []byte { return a.b.Bytes() }

// Word emits "\tWORD $0x%08x // mnemonic" and records the encoding. It
// stops the generator if the same mnemonic was encoded differently before.
func (a *Asm) Word(w uint32, mnemonic string) {
	hex := fmt.Sprintf("0x%08x", w)
	if old, ok := a.words[mnemonic]; ok && old != hex {
		log.Fatalf("%s encoded twice: %s and %s", mnemonic, old, hex)
	}
	a.words[mnemonic] = hex
	a.P("\tWORD $%s // %s", hex, mnemonic)
}

// Reg returns vector register number r as an encoding field, stopping the
// generator unless 0 ≤ r ≤ 31.
func Reg(r int) uint32 {
	if r < 0 || r > 31 {
		log.Fatalf("bad register v%d", r)
	}
	return uint32(r)
}

// Golden returns a golden WORD list: two comment lines (the first naming
// what, e.g. "the generated arm64 kernels (gen_neon.go)") and one
// "0x…<TAB>mnemonic" line per entry of words, sorted.
func Golden(what string, words map[string]string) []byte {
	var g bytes.Buffer
	g.WriteString("# WORD encodings used by " + what + ".\n")
	g.WriteString("# Checked against llvm-mc -triple=aarch64 -mattr=+dotprod,+i8mm by TestWordEncodings.\n")
	var lines []string
	for mn, w := range words {
		lines = append(lines, fmt.Sprintf("%s\t%s", w, mn))
	}
	sort.Strings(lines)
	g.WriteString(strings.Join(lines, "\n") + "\n")
	return g.Bytes()
}

// WriteFiles writes each files[name] to dir/name, in name order.
func WriteFiles(dir string, files map[string][]byte) error {
	var names []string
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
