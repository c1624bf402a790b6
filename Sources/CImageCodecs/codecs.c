#include "CImageCodecs.h"
#include <png.h>

const char *tm_png_version(void) { return PNG_LIBPNG_VER_STRING; }
