// Declarations shared by the C files of CImageCodecs; not part of the module's interface.
#ifndef CIMAGECODECS_INTERNAL_H
#define CIMAGECODECS_INTERNAL_H

#include "CImageCodecs.h"

void tm_set_message(char *message, size_t capacity, const char *text);

/// With `pixels == NULL`, reads the header only.
int tm_png_decode(
  const uint8_t *data, size_t size, tm_info *info, uint8_t *pixels, size_t capacity);
int tm_jpeg_decode(
  const uint8_t *data, size_t size, int strict, tm_info *info, uint8_t *pixels,
  size_t capacity);

#endif
