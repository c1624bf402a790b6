// PNG decoding and encoding with libpng. libpng reports errors by longjmp to the setjmp in each
// function below; the jump never leaves this file.
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *tm_png_version(void) { return PNG_LIBPNG_VER_STRING; }

static int host_is_little_endian(void) {
  const uint16_t probe = 1;
  return *(const uint8_t *)&probe == 1;
}

// Reading from memory: running out of data is a truncated file.
typedef struct {
  const uint8_t *data;
  size_t size;
  size_t offset;
  char *message;
  size_t message_capacity;
  int status;
  char warning[TM_MESSAGE_CAPACITY];  // the last warning, which often says what an error means
} png_context;

static void png_read_memory(png_structp png, png_bytep out, size_t length) {
  png_context *context = (png_context *)png_get_io_ptr(png);
  if (length > context->size - context->offset) {
    png_error(png, "the file is truncated (the data ends in the middle of a chunk)");
  }
  memcpy(out, context->data + context->offset, length);
  context->offset += length;
}

static void png_on_error(png_structp png, png_const_charp text) {
  png_context *context = (png_context *)png_get_error_ptr(png);
  // "Invalid IHDR data" comes after a warning that names the invalid field; other warnings
  // (about ancillary chunks) have nothing to do with a later error and are not added.
  if (strstr(text, "IHDR") != NULL && strstr(context->warning, "IHDR") != NULL) {
    snprintf(context->message, context->message_capacity, "%s (%s)", text, context->warning);
  } else {
    tm_set_message(context->message, context->message_capacity, text);
  }
  if (context->status == TM_OK) context->status = TM_ERROR_CORRUPT;
  png_longjmp(png, 1);
}

// Warnings alone never fail a decode (ancillary-chunk problems leave the image intact), but the
// last one is kept to explain an "Invalid IHDR data" error that follows.
static void png_on_warning(png_structp png, png_const_charp text) {
  png_context *context = (png_context *)png_get_error_ptr(png);
  if (context != NULL) snprintf(context->warning, sizeof context->warning, "%s", text);
}

static void png_on_write_warning(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;
}

int tm_png_decode(
  const uint8_t *data, size_t size, tm_info *info, uint8_t *pixels, size_t capacity) {
  png_context context = {data, size, 0, info->message, sizeof info->message, TM_OK, {0}};
  png_structp png =
    png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
  if (png == NULL) {
    tm_set_message(info->message, sizeof info->message, "out of memory (libpng)");
    return TM_ERROR_MEMORY;
  }
  png_infop png_info = png_create_info_struct(png);
  png_bytep *volatile rows = NULL;
  if (png_info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    tm_set_message(info->message, sizeof info->message, "out of memory (libpng)");
    return TM_ERROR_MEMORY;
  }
  if (setjmp(png_jmpbuf(png))) {
    free(rows);
    png_destroy_read_struct(&png, &png_info, NULL);
    return context.status == TM_OK ? TM_ERROR_CORRUPT : context.status;
  }

  // Our own pixel limit is checked by the caller from this header; lift libpng's smaller one.
  png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_set_read_fn(png, &context, png_read_memory);
  png_read_info(png, png_info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, png_info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
  info->format = TM_FORMAT_PNG;
  info->width = width;
  info->height = height;
  info->source_bit_depth = bit_depth;
  info->source_color = color_type;
  info->source_channels = png_get_channels(png, png_info);
  info->interlaced = interlace != PNG_INTERLACE_NONE;
  info->palette_or_inverted = color_type == PNG_COLOR_TYPE_PALETTE;
  int has_trns = png_get_valid(png, png_info, PNG_INFO_tRNS) != 0;
  info->has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || has_trns;
  int colour = (color_type & PNG_COLOR_MASK_COLOR) != 0;
  info->channels = (colour ? 3 : 1) + (info->has_alpha ? 1 : 0);
  info->bit_depth = bit_depth == 16 ? 16 : 8;

  png_uint_32 exif_length = 0;
  png_bytep exif = NULL;
  if (png_get_eXIf_1(png, png_info, &exif_length, &exif) != 0 && exif != NULL) {
    info->orientation = tm_exif_orientation(exif, exif_length);
  }

  if (pixels == NULL) {
    png_destroy_read_struct(&png, &png_info, NULL);
    return TM_OK;
  }

  // Let libpng expand everything to 8 or 16 bits per sample, palette to RGB, tRNS to alpha.
  // Gamma (gAMA, cHRM, sRGB, iCCP) is ignored: samples are delivered as stored.
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (has_trns) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, png_info);

  size_t row_bytes = (size_t)width * (size_t)info->channels * (size_t)(info->bit_depth / 8);
  if (png_get_rowbytes(png, png_info) != row_bytes ||
      png_get_channels(png, png_info) != info->channels ||
      png_get_bit_depth(png, png_info) != info->bit_depth) {
    context.status = TM_ERROR_BUFFER;
    png_error(png, "libpng delivers a row layout other than the one announced");
  }
  if (height != 0 && row_bytes > capacity / height) {
    context.status = TM_ERROR_BUFFER;
    png_error(png, "the pixel buffer is too small for the image");
  }
  rows = malloc(sizeof(png_bytep) * height);
  if (rows == NULL) {
    context.status = TM_ERROR_MEMORY;
    png_error(png, "out of memory (row pointers)");
  }
  for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
  png_read_image(png, rows);

  // Read through IEND so that a bad CRC or a truncation after the pixels is still reported.
  png_read_end(png, NULL);
  free(rows);
  rows = NULL;
  png_destroy_read_struct(&png, &png_info, NULL);
  return TM_OK;
}

// Writing into a growing memory buffer.
typedef struct {
  tm_buffer *output;
  size_t capacity;
  char *message;
  size_t message_capacity;
  int failed;
} png_write_context;

static void png_write_memory(png_structp png, png_bytep bytes, size_t length) {
  png_write_context *context = (png_write_context *)png_get_io_ptr(png);
  tm_buffer *output = context->output;
  if (length > context->capacity - output->size) {
    size_t capacity = context->capacity * 2 + length + 4096;
    uint8_t *grown = realloc(output->data, capacity);
    if (grown == NULL) png_error(png, "out of memory (PNG output)");
    output->data = grown;
    context->capacity = capacity;
  }
  memcpy(output->data + output->size, bytes, length);
  output->size += length;
}

static void png_flush_memory(png_structp png) { (void)png; }

static void png_on_write_error(png_structp png, png_const_charp text) {
  png_write_context *context = (png_write_context *)png_get_error_ptr(png);
  tm_set_message(context->message, context->message_capacity, text);
  context->failed = 1;
  png_longjmp(png, 1);
}

int tm_encode_png(
  const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int bit_depth,
  tm_buffer *output, char *message, size_t message_capacity) {
  output->data = NULL;
  output->size = 0;
  if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 ||
      height == 0) {
    tm_set_message(message, message_capacity, "PNG needs 1-4 channels, 8 or 16 bits, size > 0");
    return TM_ERROR_ENCODE;
  }
  static const int color_types[4] = {
    PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA};
  png_write_context context = {output, 0, message, message_capacity, 0};
  png_structp png =
    png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, png_on_write_error, png_on_write_warning);
  if (png == NULL) {
    tm_set_message(message, message_capacity, "out of memory (libpng)");
    return TM_ERROR_MEMORY;
  }
  png_infop png_info = png_create_info_struct(png);
  if (png_info == NULL) {
    png_destroy_write_struct(&png, NULL);
    tm_set_message(message, message_capacity, "out of memory (libpng)");
    return TM_ERROR_MEMORY;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &png_info);
    tm_buffer_free(output);
    return TM_ERROR_ENCODE;
  }

  png_set_write_fn(png, &context, png_write_memory, png_flush_memory);
  png_set_IHDR(
    png, png_info, width, height, bit_depth, color_types[channels - 1], PNG_INTERLACE_NONE,
    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, png_info);
  if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);
  size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
  for (uint32_t y = 0; y < height; y++) {
    png_write_row(png, pixels + (size_t)y * row_bytes);
  }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &png_info);
  return TM_OK;
}
