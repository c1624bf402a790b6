// libzip (Debian: libzip-dev), which reads and writes the zip archives of torch.save.
#include <zip.h>
