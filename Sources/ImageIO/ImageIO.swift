/// ImageIO: decoding PNG and JPEG by file signature, encoding, EXIF orientation, resampling,
/// crops and flips, folder scanning and size limits.
import CImageCodecs
