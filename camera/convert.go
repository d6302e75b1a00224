package camera

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/camera/internal/jpeg"
	"github.com/edgeinfer/edgeinfer/input"
)

// Converter turns frames into model input tensors with an
// input.Preprocessor: YUYV and I420 frames are read in place (only the
// pixels the resampling needs are converted to RGB), JPEG frames are
// decoded into reused buffers first. After the first frame of a given
// size and format, Convert does not allocate.
type Converter struct {
	pre *input.Preprocessor
	yuv input.YUV
	dec jpeg.Decoder
	// Range and Matrix, when ForceYUV is set, override the encoding the
	// frames declare (for a source that reports it wrongly).
	ForceYUV bool
	Range    input.YUVRange
	Matrix   input.YUVMatrix
}

// NewConverter returns a Converter writing through pre.
func NewConverter(pre *input.Preprocessor) *Converter {
	return &Converter{pre: pre}
}

// Preprocessor returns the preprocessor the Converter writes through.
func (c *Converter) Preprocessor() *input.Preprocessor { return c.pre }

// Convert preprocesses frame f into dst, which must hold
// Preprocessor().Spec().Len() values. A JPEG that does not decode is
// reported as a *FrameError naming the frame.
func (c *Converter) Convert(f *Frame, dst []float32) error {
	switch {
	case f.Format.compressed():
		img, err := c.dec.Decode(f.Data)
		if err != nil {
			return &FrameError{Frame: f.Index, Offset: -1, Err: fmt.Errorf("bad JPEG (%d bytes): %w", len(f.Data), err)}
		}
		return c.pre.Run(img, dst)
	case f.Format == YUYV || f.Format == I420:
		c.yuv = input.YUV{Layout: input.I420, Width: f.Width, Height: f.Height, Stride: f.Stride,
			Range: f.Range, Matrix: f.Matrix, Pix: f.Data}
		if f.Format == YUYV {
			c.yuv.Layout = input.YUYV
		}
		if c.ForceYUV {
			c.yuv.Range, c.yuv.Matrix = c.Range, c.Matrix
		}
		if err := c.yuv.Check(); err != nil {
			return &FrameError{Frame: f.Index, Offset: -1, Err: err}
		}
		return c.pre.Run(&c.yuv, dst)
	}
	return fmt.Errorf("camera: frame %d: cannot convert pixel format %v", f.Index, f.Format)
}
