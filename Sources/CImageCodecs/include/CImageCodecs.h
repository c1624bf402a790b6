// CImageCodecs: the part of libpng and libjpeg-turbo use that must be C. Both libraries report
// errors with longjmp; every setjmp lives in this target so that no longjmp crosses Swift frames.
#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

/// The libpng version this binary was built against, e.g. "1.6.39".
const char *tm_png_version(void);

#endif
