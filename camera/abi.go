package camera

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file holds the V4L2 user-space ABI (linux/videodev2.h) as Go types.
//
// The structs are declared once. The members whose size depends on the
// architecture use Go types whose size changes the same way the C types
// do: struct timeval is unix.Timeval (16 bytes on 64-bit, 8 on 32-bit
// arm), and the unions that hold a pointer or an unsigned long are
// uintptr-sized and uintptr-aligned. So one declaration gives the C layout
// on linux/amd64, linux/arm64 and linux/arm. abiLayouts records that
// layout and the resulting ioctl numbers for each of those architectures
// as literal numbers; abi_test.go checks them against the structs on the
// running architecture, against gcc's sizeof/offsetof for the host (and
// for arm and arm64 when a cross compiler is installed), and recomputes
// every ioctl number with the _IOC formula.
//
// 32-bit arm: v4l2_buffer is the classic 68-byte layout with a 32-bit
// struct timeval. Userlands built with 64-bit time_t (Debian's armhf since
// trixie) compile videodev2.h to an 80-byte v4l2_buffer with different
// ioctl numbers; the kernel accepts both, so the 32-bit-time numbers used
// here work on every 32-bit Raspberry Pi OS.

// v4l2Capability is struct v4l2_capability (VIDIOC_QUERYCAP).
type v4l2Capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

// v4l2PixFormat is struct v4l2_pix_format, the single-planar member of
// v4l2_format's union.
type v4l2PixFormat struct {
	Width        uint32
	Height       uint32
	PixelFormat  uint32
	Field        uint32
	BytesPerLine uint32
	SizeImage    uint32
	Colorspace   uint32
	Priv         uint32
	Flags        uint32
	YCbCrEnc     uint32 // union with hsv_enc
	Quantization uint32
	XferFunc     uint32
}

// v4l2Format is struct v4l2_format. Its union holds struct v4l2_window,
// which has pointers, so the union is pointer-aligned: the union starts
// at offset 8 on 64-bit architectures and 4 on 32-bit arm.
type v4l2Format struct {
	Type uint32
	Fmt  formatUnion
}

type formatUnion struct {
	_   [0]uintptr // pointer alignment, as the C union
	Raw [200]byte
}

// pix returns the union as the single-planar pixel format.
func (f *v4l2Format) pix() *v4l2PixFormat {
	return (*v4l2PixFormat)(unsafe.Pointer(&f.Fmt.Raw[0]))
}

// v4l2RequestBuffers is struct v4l2_requestbuffers (VIDIOC_REQBUFS).
type v4l2RequestBuffers struct {
	Count        uint32
	Type         uint32
	Memory       uint32
	Capabilities uint32
	Flags        uint8
	Reserved     [3]uint8
}

// v4l2Timecode is struct v4l2_timecode.
type v4l2Timecode struct {
	Type     uint32
	Flags    uint32
	Frames   uint8
	Seconds  uint8
	Minutes  uint8
	Hours    uint8
	Userbits [4]uint8
}

// v4l2Buffer is struct v4l2_buffer (VIDIOC_QUERYBUF, QBUF, DQBUF).
type v4l2Buffer struct {
	Index     uint32
	Type      uint32
	BytesUsed uint32
	Flags     uint32
	Field     uint32
	Timestamp unix.Timeval // 16 bytes on 64-bit, 8 on 32-bit arm
	Timecode  v4l2Timecode
	Sequence  uint32
	Memory    uint32
	// M is the union m { __u32 offset; unsigned long userptr;
	// struct v4l2_plane *planes; __s32 fd; }: pointer-sized.
	M         uintptr
	Length    uint32
	Reserved2 uint32
	RequestFD int32 // union with __u32 reserved
}

// offset returns m.offset, the mmap offset of a V4L2_MEMORY_MMAP buffer:
// the union's first four bytes, whatever the byte order.
func (b *v4l2Buffer) offset() uint32 { return *(*uint32)(unsafe.Pointer(&b.M)) }

// v4l2Fmtdesc is struct v4l2_fmtdesc (VIDIOC_ENUM_FMT).
type v4l2Fmtdesc struct {
	Index       uint32
	Type        uint32
	Flags       uint32
	Description [32]byte
	PixelFormat uint32
	MbusCode    uint32
	Reserved    [3]uint32
}

// v4l2Fract is struct v4l2_fract.
type v4l2Fract struct {
	Numerator   uint32
	Denominator uint32
}

// v4l2CaptureParm is struct v4l2_captureparm.
type v4l2CaptureParm struct {
	Capability   uint32
	CaptureMode  uint32
	TimePerFrame v4l2Fract
	ExtendedMode uint32
	ReadBuffers  uint32
	Reserved     [4]uint32
}

// v4l2StreamParm is struct v4l2_streamparm (VIDIOC_G_PARM, S_PARM). The
// union has no pointers: 4-byte aligned on every architecture.
type v4l2StreamParm struct {
	Type uint32
	Parm [200]byte // union { v4l2_captureparm capture; v4l2_outputparm output; __u8 raw_data[200]; }
}

// capture returns the union as the capture parameters.
func (p *v4l2StreamParm) capture() *v4l2CaptureParm {
	return (*v4l2CaptureParm)(unsafe.Pointer(&p.Parm[0]))
}

// v4l2FrmSizeEnum is struct v4l2_frmsizeenum (VIDIOC_ENUM_FRAMESIZES).
type v4l2FrmSizeEnum struct {
	Index       uint32
	PixelFormat uint32
	Type        uint32
	// Union of v4l2_frmsize_discrete {width, height} and
	// v4l2_frmsize_stepwise {min_width, max_width, step_width,
	// min_height, max_height, step_height}.
	Size     [6]uint32
	Reserved [2]uint32
}

// Constants from linux/videodev2.h.
const (
	capVideoCapture = 0x00000001 // V4L2_CAP_VIDEO_CAPTURE
	capStreaming    = 0x04000000 // V4L2_CAP_STREAMING
	capDeviceCaps   = 0x80000000 // V4L2_CAP_DEVICE_CAPS

	bufTypeVideoCapture = 1 // V4L2_BUF_TYPE_VIDEO_CAPTURE
	memoryMmap          = 1 // V4L2_MEMORY_MMAP
	fieldAny            = 0 // V4L2_FIELD_ANY
	fieldNone           = 1 // V4L2_FIELD_NONE

	bufFlagError         = 0x00000040 // V4L2_BUF_FLAG_ERROR
	bufFlagTimestampMask = 0x0000e000 // V4L2_BUF_FLAG_TIMESTAMP_MASK
	bufFlagTimestampMono = 0x00002000 // V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC

	capTimePerFrame = 0x1000 // V4L2_CAP_TIMEPERFRAME (v4l2_captureparm.capability)

	frmSizeTypeDiscrete = 1 // V4L2_FRMSIZE_TYPE_DISCRETE

	ycbcrEncDefault = 0 // V4L2_YCBCR_ENC_DEFAULT
	ycbcrEnc601     = 1 // V4L2_YCBCR_ENC_601
	ycbcrEnc709     = 2 // V4L2_YCBCR_ENC_709

	quantDefault   = 0 // V4L2_QUANTIZATION_DEFAULT
	quantFullRange = 1 // V4L2_QUANTIZATION_FULL_RANGE
	quantLimRange  = 2 // V4L2_QUANTIZATION_LIM_RANGE

	colorspaceSMPTE170M = 1 // V4L2_COLORSPACE_SMPTE170M
	colorspaceREC709    = 3 // V4L2_COLORSPACE_REC709
	colorspaceJPEG      = 7 // V4L2_COLORSPACE_JPEG
	colorspaceSRGB      = 8 // V4L2_COLORSPACE_SRGB
)

// The _IOC encoding of asm-generic/ioctl.h, used by x86, arm and arm64:
// dir in bits 30–31, the argument size in bits 16–29, the type letter in
// bits 8–15 and the number in bits 0–7.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2

	iocNRShift   = 0
	iocTypeShift = 8
	iocSizeShift = 16
	iocDirShift  = 30
	iocSizeBits  = 14
)

// ioc is the kernel's _IOC(dir, type, nr, size).
func ioc(dir, typ, nr, size uintptr) uint32 {
	return uint32(dir<<iocDirShift | typ<<iocTypeShift | nr<<iocNRShift | size<<iocSizeShift)
}

func ior(typ, nr, size uintptr) uint32  { return ioc(iocRead, typ, nr, size) }
func iow(typ, nr, size uintptr) uint32  { return ioc(iocWrite, typ, nr, size) }
func iowr(typ, nr, size uintptr) uint32 { return ioc(iocRead|iocWrite, typ, nr, size) }

// abiLayout is the V4L2 ABI of one architecture: the struct sizes and the
// offsets the code depends on (as gcc reports them for videodev2.h), and
// the ioctl request numbers.
type abiLayout struct {
	SizeofCapability    uintptr
	SizeofPixFormat     uintptr
	SizeofFormat        uintptr
	SizeofRequestBufs   uintptr
	SizeofBuffer        uintptr
	SizeofFmtdesc       uintptr
	SizeofStreamParm    uintptr
	SizeofFrmSizeEnum   uintptr
	OffsetFormatFmt     uintptr // v4l2_format.fmt
	OffsetBufTimestamp  uintptr // v4l2_buffer.timestamp
	OffsetBufTimecode   uintptr // v4l2_buffer.timecode
	OffsetBufSequence   uintptr // v4l2_buffer.sequence
	OffsetBufMemory     uintptr // v4l2_buffer.memory
	OffsetBufM          uintptr // v4l2_buffer.m
	OffsetBufLength     uintptr // v4l2_buffer.length
	OffsetBufRequestFD  uintptr // v4l2_buffer.request_fd
	OffsetFmtdescPixFmt uintptr // v4l2_fmtdesc.pixelformat
	OffsetCapDeviceCaps uintptr // v4l2_capability.device_caps

	VIDIOC_QUERYCAP        uint32
	VIDIOC_ENUM_FMT        uint32
	VIDIOC_G_FMT           uint32
	VIDIOC_S_FMT           uint32
	VIDIOC_REQBUFS         uint32
	VIDIOC_QUERYBUF        uint32
	VIDIOC_QBUF            uint32
	VIDIOC_DQBUF           uint32
	VIDIOC_STREAMON        uint32
	VIDIOC_STREAMOFF       uint32
	VIDIOC_G_PARM          uint32
	VIDIOC_S_PARM          uint32
	VIDIOC_ENUM_FRAMESIZES uint32
}

// abiLayouts is the ABI per GOARCH, written out as numbers so that the
// arm and arm64 values can be reviewed (and tested) on any host.
var abiLayouts = map[string]abiLayout{
	// LP64: struct timeval is 16 bytes, pointers 8.
	"amd64": lp64Layout,
	"arm64": lp64Layout,
	// ILP32 EABI with 32-bit time_t: struct timeval is 8 bytes,
	// pointers and unsigned long 4.
	"arm": {
		SizeofCapability: 104, SizeofPixFormat: 48, SizeofFormat: 204, SizeofRequestBufs: 20,
		SizeofBuffer: 68, SizeofFmtdesc: 64, SizeofStreamParm: 204, SizeofFrmSizeEnum: 44,
		OffsetFormatFmt: 4, OffsetBufTimestamp: 20, OffsetBufTimecode: 28, OffsetBufSequence: 44,
		OffsetBufMemory: 48, OffsetBufM: 52, OffsetBufLength: 56, OffsetBufRequestFD: 64,
		OffsetFmtdescPixFmt: 44, OffsetCapDeviceCaps: 88,

		VIDIOC_QUERYCAP:        0x80685600,
		VIDIOC_ENUM_FMT:        0xc0405602,
		VIDIOC_G_FMT:           0xc0cc5604,
		VIDIOC_S_FMT:           0xc0cc5605,
		VIDIOC_REQBUFS:         0xc0145608,
		VIDIOC_QUERYBUF:        0xc0445609,
		VIDIOC_QBUF:            0xc044560f,
		VIDIOC_DQBUF:           0xc0445611,
		VIDIOC_STREAMON:        0x40045612,
		VIDIOC_STREAMOFF:       0x40045613,
		VIDIOC_G_PARM:          0xc0cc5615,
		VIDIOC_S_PARM:          0xc0cc5616,
		VIDIOC_ENUM_FRAMESIZES: 0xc02c564a,
	},
}

var lp64Layout = abiLayout{
	SizeofCapability: 104, SizeofPixFormat: 48, SizeofFormat: 208, SizeofRequestBufs: 20,
	SizeofBuffer: 88, SizeofFmtdesc: 64, SizeofStreamParm: 204, SizeofFrmSizeEnum: 44,
	OffsetFormatFmt: 8, OffsetBufTimestamp: 24, OffsetBufTimecode: 40, OffsetBufSequence: 56,
	OffsetBufMemory: 60, OffsetBufM: 64, OffsetBufLength: 72, OffsetBufRequestFD: 80,
	OffsetFmtdescPixFmt: 44, OffsetCapDeviceCaps: 88,

	VIDIOC_QUERYCAP:        0x80685600,
	VIDIOC_ENUM_FMT:        0xc0405602,
	VIDIOC_G_FMT:           0xc0d05604,
	VIDIOC_S_FMT:           0xc0d05605,
	VIDIOC_REQBUFS:         0xc0145608,
	VIDIOC_QUERYBUF:        0xc0585609,
	VIDIOC_QBUF:            0xc058560f,
	VIDIOC_DQBUF:           0xc0585611,
	VIDIOC_STREAMON:        0x40045612,
	VIDIOC_STREAMOFF:       0x40045613,
	VIDIOC_G_PARM:          0xc0cc5615,
	VIDIOC_S_PARM:          0xc0cc5616,
	VIDIOC_ENUM_FRAMESIZES: 0xc02c564a,
}

// goLayout is the layout of the Go declarations above on the running
// architecture, with the ioctl numbers computed from it by the
// videodev2.h definitions.
func goLayout() abiLayout {
	var (
		c  v4l2Capability
		f  v4l2Format
		b  v4l2Buffer
		fd v4l2Fmtdesc
	)
	l := abiLayout{
		SizeofCapability:    unsafe.Sizeof(c),
		SizeofPixFormat:     unsafe.Sizeof(v4l2PixFormat{}),
		SizeofFormat:        unsafe.Sizeof(f),
		SizeofRequestBufs:   unsafe.Sizeof(v4l2RequestBuffers{}),
		SizeofBuffer:        unsafe.Sizeof(b),
		SizeofFmtdesc:       unsafe.Sizeof(fd),
		SizeofStreamParm:    unsafe.Sizeof(v4l2StreamParm{}),
		SizeofFrmSizeEnum:   unsafe.Sizeof(v4l2FrmSizeEnum{}),
		OffsetFormatFmt:     unsafe.Offsetof(f.Fmt),
		OffsetBufTimestamp:  unsafe.Offsetof(b.Timestamp),
		OffsetBufTimecode:   unsafe.Offsetof(b.Timecode),
		OffsetBufSequence:   unsafe.Offsetof(b.Sequence),
		OffsetBufMemory:     unsafe.Offsetof(b.Memory),
		OffsetBufM:          unsafe.Offsetof(b.M),
		OffsetBufLength:     unsafe.Offsetof(b.Length),
		OffsetBufRequestFD:  unsafe.Offsetof(b.RequestFD),
		OffsetFmtdescPixFmt: unsafe.Offsetof(fd.PixelFormat),
		OffsetCapDeviceCaps: unsafe.Offsetof(c.DeviceCaps),
	}
	return l.withIoctls()
}

// withIoctls returns l with the ioctl numbers computed from its struct
// sizes, exactly as videodev2.h defines them.
func (l abiLayout) withIoctls() abiLayout {
	const v = 'V'
	l.VIDIOC_QUERYCAP = ior(v, 0, l.SizeofCapability)
	l.VIDIOC_ENUM_FMT = iowr(v, 2, l.SizeofFmtdesc)
	l.VIDIOC_G_FMT = iowr(v, 4, l.SizeofFormat)
	l.VIDIOC_S_FMT = iowr(v, 5, l.SizeofFormat)
	l.VIDIOC_REQBUFS = iowr(v, 8, l.SizeofRequestBufs)
	l.VIDIOC_QUERYBUF = iowr(v, 9, l.SizeofBuffer)
	l.VIDIOC_QBUF = iowr(v, 15, l.SizeofBuffer)
	l.VIDIOC_DQBUF = iowr(v, 17, l.SizeofBuffer)
	l.VIDIOC_STREAMON = iow(v, 18, 4) // int
	l.VIDIOC_STREAMOFF = iow(v, 19, 4)
	l.VIDIOC_G_PARM = iowr(v, 21, l.SizeofStreamParm)
	l.VIDIOC_S_PARM = iowr(v, 22, l.SizeofStreamParm)
	l.VIDIOC_ENUM_FRAMESIZES = iowr(v, 74, l.SizeofFrmSizeEnum)
	return l
}
