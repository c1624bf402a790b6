// Writes a YCCK JPEG (as Photoshop does for CMYK, with the Adobe marker) from raw CMYK samples,
// for scripts/make_image_fixtures.py; neither Pillow nor cjpeg can produce one.
// Usage: write_ycck_jpeg WIDTH HEIGHT QUALITY < cmyk.raw > out.jpg
// The raw input holds WIDTH*HEIGHT*4 bytes in the inverted (Adobe) convention, 255 = no ink.
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WIDTH HEIGHT QUALITY < cmyk.raw > out.jpg\n", argv[0]);
    return 2;
  }
  int width = atoi(argv[1]), height = atoi(argv[2]), quality = atoi(argv[3]);
  size_t size = (size_t)width * (size_t)height * 4;
  unsigned char *samples = malloc(size);
  if (samples == NULL || fread(samples, 1, size, stdin) != size) {
    fprintf(stderr, "expected %zu bytes of CMYK on standard input\n", size);
    return 1;
  }

  struct jpeg_compress_struct codec;
  struct jpeg_error_mgr errors;
  codec.err = jpeg_std_error(&errors);
  jpeg_create_compress(&codec);
  jpeg_stdio_dest(&codec, stdout);
  codec.image_width = (JDIMENSION)width;
  codec.image_height = (JDIMENSION)height;
  codec.input_components = 4;
  codec.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&codec);
  jpeg_set_colorspace(&codec, JCS_YCCK);  // also makes libjpeg write the Adobe marker
  jpeg_set_quality(&codec, quality, TRUE);
  for (int c = 0; c < codec.num_components; c++) {  // no chroma subsampling: exact patches
    codec.comp_info[c].h_samp_factor = 1;
    codec.comp_info[c].v_samp_factor = 1;
  }
  jpeg_start_compress(&codec, TRUE);
  while (codec.next_scanline < codec.image_height) {
    JSAMPROW row = samples + (size_t)codec.next_scanline * (size_t)width * 4;
    jpeg_write_scanlines(&codec, &row, 1);
  }
  jpeg_finish_compress(&codec);
  jpeg_destroy_compress(&codec);
  free(samples);
  return 0;
}
