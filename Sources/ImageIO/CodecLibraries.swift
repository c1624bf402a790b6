import CImageCodecs

/// The image libraries this binary was built against, for `transmute version` and bug reports.
public enum CodecLibraries {
  /// libpng's version, e.g. "1.6.39".
  public static var png: String { String(cString: tm_png_version()) }

  /// libjpeg-turbo's version, e.g. "2.1.5" (from its number 2001005); a plain libjpeg gives its
  /// API version instead ("libjpeg API 80").
  public static var jpeg: String {
    let number = Int(tm_jpeg_version())
    guard number >= 1_000_000 else { return "libjpeg API \(number)" }
    return "\(number / 1_000_000).\(number / 1000 % 1000).\(number % 1000)"
  }
}
