// JPEG decoding and encoding with libjpeg-turbo. libjpeg reports errors (and, when strict,
// warnings) by longjmp to the setjmp in each function below; the jump never leaves this file.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "internal.h"

int tm_jpeg_version(void) {
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
  return LIBJPEG_TURBO_VERSION_NUMBER;
#else
  return JPEG_LIB_VERSION;
#endif
}

typedef struct {
  struct jpeg_error_mgr manager;
  jmp_buf jump;
  char *message;
  size_t message_capacity;
  int strict;
  int warnings;
  int status;
} jpeg_context;

static void jpeg_on_error(j_common_ptr codec) {
  jpeg_context *context = (jpeg_context *)codec->err;
  char text[JMSG_LENGTH_MAX];
  (*codec->err->format_message)(codec, text);
  if (codec->err->msg_code == JERR_BAD_PRECISION) {
    context->status = TM_ERROR_UNSUPPORTED;
    snprintf(
      context->message, context->message_capacity,
      "%d-bit JPEG samples are not supported (only 8-bit); libjpeg says: %s",
      ((j_decompress_ptr)codec)->data_precision, text);
  } else if (codec->err->msg_code == JERR_SOF_UNSUPPORTED) {
    context->status = TM_ERROR_UNSUPPORTED;
    snprintf(
      context->message, context->message_capacity,
      "lossless and hierarchical JPEG are not supported; libjpeg says: %s", text);
  } else {
    if (context->status == TM_OK) context->status = TM_ERROR_CORRUPT;
    tm_set_message(context->message, context->message_capacity, text);
  }
  longjmp(context->jump, 1);
}

// A progressive JPEG may hold any number of scans, each a pass over the whole image: thousands
// of tiny scans make a small file that takes minutes to decode. Real encoders use about ten.
#define TM_JPEG_MAX_SCANS 500

static void jpeg_on_progress(j_common_ptr codec) {
  if (!codec->is_decompressor) return;
  j_decompress_ptr decompress = (j_decompress_ptr)codec;
  if (decompress->input_scan_number > TM_JPEG_MAX_SCANS) {
    jpeg_context *context = (jpeg_context *)codec->err;
    context->status = TM_ERROR_CORRUPT;
    snprintf(
      context->message, context->message_capacity,
      "more than %d progressive scans (a decoding-time bomb)", TM_JPEG_MAX_SCANS);
    longjmp(context->jump, 1);
  }
}

// Level -1 is a warning (corrupt data, premature end); higher levels are trace messages. An
// unknown JFIF revision says nothing about the data, so it never fails a strict decode.
static void jpeg_on_message(j_common_ptr codec, int level) {
  if (level >= 0 || codec->err->msg_code == JWRN_JFIF_MAJOR) return;
  jpeg_context *context = (jpeg_context *)codec->err;
  context->warnings += 1;
  if (context->warnings == 1 || context->strict) {
    char text[JMSG_LENGTH_MAX];
    (*codec->err->format_message)(codec, text);
    tm_set_message(context->message, context->message_capacity, text);
  }
  if (context->strict) {
    context->status = TM_ERROR_CORRUPT;
    longjmp(context->jump, 1);
  }
}

static int find_orientation(j_decompress_ptr codec) {
  for (jpeg_saved_marker_ptr marker = codec->marker_list; marker != NULL; marker = marker->next) {
    if (marker->marker != JPEG_APP0 + 1 || marker->data_length < 6) continue;
    if (memcmp(marker->data, "Exif\0\0", 6) != 0) continue;
    return tm_exif_orientation(marker->data + 6, marker->data_length - 6);
  }
  return 0;
}

// Adobe-style CMYK is stored inverted (255 means no ink); plain CMYK is not. Either way the
// light reflected is (1 - C)(1 - K) for red, and likewise for green (M) and blue (Y).
static void cmyk_to_rgb(const JSAMPLE *cmyk, uint8_t *rgb, JDIMENSION width, int inverted) {
  for (JDIMENSION x = 0; x < width; x++) {
    unsigned k = inverted ? cmyk[3] : 255u - cmyk[3];
    for (int c = 0; c < 3; c++) {
      unsigned ink = inverted ? cmyk[c] : 255u - cmyk[c];
      rgb[c] = (uint8_t)((ink * k + 127u) / 255u);
    }
    cmyk += 4;
    rgb += 3;
  }
}

int tm_jpeg_decode(
  const uint8_t *data, size_t size, int strict, tm_info *info, uint8_t *pixels,
  size_t capacity) {
  struct jpeg_decompress_struct codec;
  jpeg_context context;
  memset(&context, 0, sizeof context);
  context.message = info->message;
  context.message_capacity = sizeof info->message;
  context.strict = strict;
  JSAMPLE *volatile cmyk_row = NULL;

  codec.err = jpeg_std_error(&context.manager);
  context.manager.error_exit = jpeg_on_error;
  context.manager.emit_message = jpeg_on_message;
  if (setjmp(context.jump)) {
    free(cmyk_row);
    jpeg_destroy_decompress(&codec);
    info->warnings = context.warnings;
    return context.status == TM_OK ? TM_ERROR_CORRUPT : context.status;
  }
  jpeg_create_decompress(&codec);
  struct jpeg_progress_mgr progress = {jpeg_on_progress, 0, 0, 0, 0};
  codec.progress = &progress;
  jpeg_mem_src(&codec, data, (unsigned long)size);
  jpeg_save_markers(&codec, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&codec, TRUE);

  info->format = TM_FORMAT_JPEG;
  info->width = codec.image_width;
  info->height = codec.image_height;
  info->source_bit_depth = codec.data_precision;
  info->source_channels = codec.num_components;
  info->source_color = codec.jpeg_color_space;
  info->interlaced = codec.progressive_mode != 0;
  info->arithmetic = codec.arith_code != 0;
  info->has_alpha = 0;
  info->bit_depth = 8;
  info->orientation = find_orientation(&codec);
  int four_components = codec.jpeg_color_space == JCS_CMYK || codec.jpeg_color_space == JCS_YCCK;
  info->palette_or_inverted = four_components && codec.saw_Adobe_marker;
  if (codec.jpeg_color_space == JCS_GRAYSCALE) {
    info->channels = 1;
    codec.out_color_space = JCS_GRAYSCALE;
  } else if (four_components) {
    info->channels = 3;
    codec.out_color_space = JCS_CMYK;  // libjpeg turns YCCK into CMYK; we finish the job
  } else {
    info->channels = 3;
    codec.out_color_space = JCS_RGB;
  }

  if (pixels == NULL) {
    jpeg_destroy_decompress(&codec);
    return TM_OK;
  }

  jpeg_start_decompress(&codec);
  size_t row_bytes = (size_t)codec.output_width * (size_t)info->channels;
  if (codec.output_width != info->width || codec.output_height != info->height ||
      (size_t)codec.output_components != (four_components ? 4u : (size_t)info->channels) ||
      (info->height != 0 && row_bytes > capacity / info->height)) {
    context.status = TM_ERROR_BUFFER;
    tm_set_message(info->message, sizeof info->message, "the pixel buffer does not fit the image");
    longjmp(context.jump, 1);
  }
  if (four_components) {
    cmyk_row = malloc((size_t)codec.output_width * 4);
    if (cmyk_row == NULL) {
      context.status = TM_ERROR_MEMORY;
      tm_set_message(info->message, sizeof info->message, "out of memory (CMYK row)");
      longjmp(context.jump, 1);
    }
  }
  while (codec.output_scanline < codec.output_height) {
    uint8_t *row = pixels + (size_t)codec.output_scanline * row_bytes;
    JSAMPROW target = four_components ? cmyk_row : row;
    if (jpeg_read_scanlines(&codec, &target, 1) != 1) {
      context.status = TM_ERROR_CORRUPT;
      tm_set_message(info->message, sizeof info->message, "libjpeg stopped before the last row");
      longjmp(context.jump, 1);
    }
    if (four_components) cmyk_to_rgb(cmyk_row, row, codec.output_width, info->palette_or_inverted);
  }
  jpeg_finish_decompress(&codec);
  free(cmyk_row);
  cmyk_row = NULL;
  info->warnings = context.warnings;
  jpeg_destroy_decompress(&codec);
  return TM_OK;
}

int tm_encode_jpeg(
  const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
  int subsampling, tm_buffer *output, char *message, size_t message_capacity) {
  output->data = NULL;
  output->size = 0;
  if ((channels != 1 && channels != 3) || quality < 1 || quality > 100 || width == 0 ||
      height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
    tm_set_message(
      message, message_capacity, "JPEG needs 1 or 3 channels, quality 1-100, size 1-65500");
    return TM_ERROR_ENCODE;
  }
  struct jpeg_compress_struct codec;
  jpeg_context context;
  memset(&context, 0, sizeof context);
  context.message = message;
  context.message_capacity = message_capacity;
  unsigned char *volatile buffer = NULL;
  unsigned long buffer_size = 0;

  codec.err = jpeg_std_error(&context.manager);
  context.manager.error_exit = jpeg_on_error;
  context.manager.emit_message = jpeg_on_message;
  if (setjmp(context.jump)) {
    jpeg_destroy_compress(&codec);
    free(buffer);
    return TM_ERROR_ENCODE;
  }
  jpeg_create_compress(&codec);
  jpeg_mem_dest(&codec, (unsigned char **)&buffer, &buffer_size);
  codec.image_width = width;
  codec.image_height = height;
  codec.input_components = channels;
  codec.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&codec);
  jpeg_set_quality(&codec, quality, TRUE);
  codec.optimize_coding = TRUE;
  if (channels == 3) {
    int h = subsampling == TM_JPEG_SUBSAMPLING_444 ? 1 : 2;
    int v = subsampling == TM_JPEG_SUBSAMPLING_420 ? 2 : 1;
    codec.comp_info[0].h_samp_factor = h;
    codec.comp_info[0].v_samp_factor = v;
    for (int c = 1; c < 3; c++) {
      codec.comp_info[c].h_samp_factor = 1;
      codec.comp_info[c].v_samp_factor = 1;
    }
  }
  jpeg_start_compress(&codec, TRUE);
  size_t row_bytes = (size_t)width * (size_t)channels;
  while (codec.next_scanline < codec.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)codec.next_scanline * row_bytes);
    jpeg_write_scanlines(&codec, &row, 1);
  }
  jpeg_finish_compress(&codec);
  jpeg_destroy_compress(&codec);
  output->data = buffer;
  output->size = buffer_size;
  return TM_OK;
}
