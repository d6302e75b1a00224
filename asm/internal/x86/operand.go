package x86

import "fmt"

// Disp is the Go assembler memory operand off(reg), written (reg) when
// off is 0.
func Disp(off int, reg string) string {
	if off == 0 {
		return "(" + reg + ")"
	}
	return fmt.Sprintf("%d(%s)", off, reg)
}
