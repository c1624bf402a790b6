// Format detection, EXIF orientation and the entry points that dispatch to the PNG and JPEG
// codecs (png_codec.c, jpeg_codec.c).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CImageCodecs.h"
#include "internal.h"

int tm_detect_format(const uint8_t *data, size_t size) {
  static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 8 && memcmp(data, png_signature, 8) == 0) return TM_FORMAT_PNG;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return TM_FORMAT_JPEG;
  return TM_FORMAT_UNKNOWN;
}

void tm_set_message(char *message, size_t capacity, const char *text) {
  if (message == NULL || capacity == 0) return;
  snprintf(message, capacity, "%s", text);
}

static int not_an_image(tm_info *info) {
  tm_set_message(info->message, sizeof info->message, "not a PNG or JPEG file");
  return TM_ERROR_NOT_IMAGE;
}

int tm_read_info(const uint8_t *data, size_t size, int strict, tm_info *info) {
  memset(info, 0, sizeof *info);
  switch (tm_detect_format(data, size)) {
  case TM_FORMAT_PNG: return tm_png_decode(data, size, info, NULL, 0);
  case TM_FORMAT_JPEG: return tm_jpeg_decode(data, size, strict, info, NULL, 0);
  default: return not_an_image(info);
  }
}

int tm_decode(
  const uint8_t *data, size_t size, int strict, tm_info *info, uint8_t *pixels, size_t capacity) {
  memset(info, 0, sizeof *info);
  if (pixels == NULL) {
    tm_set_message(info->message, sizeof info->message, "no pixel buffer given");
    return TM_ERROR_BUFFER;
  }
  switch (tm_detect_format(data, size)) {
  case TM_FORMAT_PNG: return tm_png_decode(data, size, info, pixels, capacity);
  case TM_FORMAT_JPEG: return tm_jpeg_decode(data, size, strict, info, pixels, capacity);
  default: return not_an_image(info);
  }
}

void tm_buffer_free(tm_buffer *buffer) {
  free(buffer->data);
  buffer->data = NULL;
  buffer->size = 0;
}

// EXIF is a little TIFF file: byte order, 42, the offset of IFD0, then 12-byte entries.
static uint32_t read_u16(const uint8_t *p, int little) {
  return little ? (uint32_t)(p[0] | (p[1] << 8)) : (uint32_t)((p[0] << 8) | p[1]);
}

static uint32_t read_u32(const uint8_t *p, int little) {
  return little ? ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                   ((uint32_t)p[3] << 24))
                : (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
                   (uint32_t)p[3]);
}

int tm_exif_orientation(const uint8_t *tiff, size_t size) {
  if (tiff == NULL || size < 8) return 0;
  int little;
  if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
  else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
  else return 0;
  if (read_u16(tiff + 2, little) != 42) return 0;

  size_t ifd = read_u32(tiff + 4, little);
  if (ifd > size || size - ifd < 2) return 0;
  size_t count = read_u16(tiff + ifd, little);
  for (size_t i = 0; i < count; i++) {
    size_t entry = ifd + 2 + 12 * i;
    if (entry > size || size - entry < 12) return 0;
    if (read_u16(tiff + entry, little) != 0x0112) continue;
    uint32_t type = read_u16(tiff + entry + 2, little);
    uint32_t value;
    if (type == 3) value = read_u16(tiff + entry + 8, little);       // SHORT
    else if (type == 4) value = read_u32(tiff + entry + 8, little);  // LONG (seen in the wild)
    else return 0;
    return (value >= 1 && value <= 8) ? (int)value : 0;
  }
  return 0;
}
