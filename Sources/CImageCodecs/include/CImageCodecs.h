// CImageCodecs: the part of libpng and libjpeg-turbo use that must be C. Both libraries report
// errors with longjmp; every setjmp lives in this target so that no longjmp crosses Swift frames.
// Every function here returns a status code (TM_OK on success) and, on failure, a message in
// the caller's `tm_info.message` or `message` buffer.
#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

/// The libpng version this binary was built against, e.g. "1.6.39".
const char *tm_png_version(void);

/// The libjpeg-turbo version this binary was built against, e.g. 2001005 for 2.1.5.
int tm_jpeg_version(void);

enum {
  TM_FORMAT_UNKNOWN = 0,
  TM_FORMAT_PNG = 1,
  TM_FORMAT_JPEG = 2,
};

enum {
  TM_OK = 0,
  /// The data does not start with a PNG or JPEG signature.
  TM_ERROR_NOT_IMAGE = 1,
  /// The data is damaged: bad CRC, bad zlib stream, truncation, corrupt entropy data, ...
  TM_ERROR_CORRUPT = 2,
  /// Valid but not supported by this build (12-bit JPEG, for example).
  TM_ERROR_UNSUPPORTED = 3,
  /// Out of memory inside the library.
  TM_ERROR_MEMORY = 4,
  /// The caller's buffer does not match the decoded layout (a programming error).
  TM_ERROR_BUFFER = 5,
  /// Encoding failed (bad parameters or a library error).
  TM_ERROR_ENCODE = 6,
};

enum {
  TM_JPEG_SUBSAMPLING_444 = 0,
  TM_JPEG_SUBSAMPLING_422 = 1,
  TM_JPEG_SUBSAMPLING_420 = 2,
};

#define TM_MESSAGE_CAPACITY 256

/// What the header says, and the layout that `tm_decode` delivers.
typedef struct {
  /// TM_FORMAT_PNG or TM_FORMAT_JPEG.
  int format;
  uint32_t width;
  uint32_t height;
  /// Interleaved samples per pixel that `tm_decode` writes: 1 grey, 2 grey+alpha, 3 RGB,
  /// 4 RGBA. JPEG CMYK and YCCK are delivered as RGB (3).
  int channels;
  /// Bits per delivered sample: 8 or 16 (16-bit samples are in host byte order).
  int bit_depth;
  /// Bits per sample in the file: PNG 1, 2, 4, 8, 16; JPEG data precision (8 or 12).
  int source_bit_depth;
  /// Components in the file: PNG 1 (grey or palette), 2, 3, 4; JPEG 1, 3 or 4.
  int source_channels;
  /// PNG colour type (0, 2, 3, 4, 6) or JPEG colour space (libjpeg's J_COLOR_SPACE value).
  int source_color;
  /// PNG: Adam7 interlaced. JPEG: progressive.
  int interlaced;
  /// JPEG: arithmetic-coded.
  int arithmetic;
  /// Whether the delivered pixels carry alpha (PNG alpha channel or tRNS).
  int has_alpha;
  /// PNG: has a palette. JPEG: the four components are stored inverted (Adobe APP14 marker).
  int palette_or_inverted;
  /// EXIF orientation 1...8, or 0 when the file has no (readable) orientation tag.
  int orientation;
  /// Library warnings seen while decoding (tolerated only when not strict).
  int warnings;
  /// The reason for a failure, or the first warning.
  char message[TM_MESSAGE_CAPACITY];
} tm_info;

/// Which format the data's signature says: TM_FORMAT_PNG, TM_FORMAT_JPEG or TM_FORMAT_UNKNOWN.
int tm_detect_format(const uint8_t *data, size_t size);

/// Reads the header of a PNG or JPEG held in memory into `info` without decoding pixels. When
/// `strict` is non-zero, libjpeg warnings in the header are errors.
int tm_read_info(const uint8_t *data, size_t size, int strict, tm_info *info);

/// Decodes the whole image into `pixels` (interleaved rows, `width * channels * bit_depth / 8`
/// bytes each, top row first). `info` is filled as by `tm_read_info`; `capacity` must be at
/// least `width * height * channels * bit_depth / 8`. When `strict` is non-zero, any libjpeg
/// warning (corrupt data, premature end of file) is an error.
int tm_decode(
  const uint8_t *data, size_t size, int strict, tm_info *info, uint8_t *pixels, size_t capacity);

/// A buffer allocated by this library; release it with `tm_buffer_free`.
typedef struct {
  uint8_t *data;
  size_t size;
} tm_buffer;

void tm_buffer_free(tm_buffer *buffer);

/// Encodes interleaved samples (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; 8 or 16 bits, 16-bit in
/// host byte order) as a PNG in memory.
int tm_encode_png(
  const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int bit_depth,
  tm_buffer *output, char *message, size_t message_capacity);

/// Encodes 8-bit interleaved samples (1 grey or 3 RGB) as a baseline JPEG in memory.
/// `quality` is 1...100; `subsampling` one of TM_JPEG_SUBSAMPLING_*.
int tm_encode_jpeg(
  const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
  int subsampling, tm_buffer *output, char *message, size_t message_capacity);

/// The orientation tag (1...8) of a TIFF-structured EXIF block (starting at "II" or "MM"),
/// or 0 when there is none or the block is malformed. Bounded: never reads past `size` and
/// follows no offset chains, so hostile data cannot make it loop.
int tm_exif_orientation(const uint8_t *tiff, size_t size);

#endif
