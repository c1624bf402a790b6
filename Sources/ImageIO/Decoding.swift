/// Reading PNG and JPEG files through the CImageCodecs shim: the header first, limits checked,
/// then the pixels, converted to planar Float32 and turned upright by the EXIF orientation.
import CImageCodecs
import Foundation

/// What a decoder accepts. The size limits are checked from the header, before the pixel
/// buffer is allocated, so a small file announcing a huge image (a decompression bomb) costs
/// nothing.
public struct DecodeLimits: Sendable, Equatable {
  /// The largest `width * height` accepted. Default 100 megapixels.
  public var maxPixels: Int
  /// The smallest width accepted (after orientation). Default 1.
  public var minWidth: Int
  /// The smallest height accepted (after orientation). Default 1.
  public var minHeight: Int
  /// Whether libjpeg's warnings (corrupt data, premature end of file) are errors. Default
  /// `true`: otherwise a damaged JPEG decodes with grey blocks in it.
  public var strictJPEG: Bool

  /// The largest file read: 8 bytes per pixel (16-bit RGBA, stored uncompressed) with 1 %
  /// for framing, plus 64 MiB for metadata. Larger files cannot hold an image within
  /// `maxPixels` and are refused before being read into memory.
  public var maxFileBytes: Int {
    let (pixelBytes, overflow) = maxPixels.multipliedReportingOverflow(by: 8)
    return overflow ? Int.max : pixelBytes + pixelBytes / 100 + 64 << 20
  }

  public init(
    maxPixels: Int = 100_000_000, minWidth: Int = 1, minHeight: Int = 1, strictJPEG: Bool = true
  ) {
    precondition(maxPixels > 0, "maxPixels must be positive, got \(maxPixels)")
    precondition(minWidth >= 1 && minHeight >= 1, "minimum size \(minWidth)×\(minHeight) < 1")
    self.maxPixels = maxPixels
    self.minWidth = minWidth
    self.minHeight = minHeight
    self.strictJPEG = strictJPEG
  }
}

/// What a file's header says, read without decoding the pixels.
public struct ImageInfo: Sendable, Equatable {
  public var format: ImageFormat
  /// Width and height of the upright image (after the EXIF orientation).
  public var width: Int
  public var height: Int
  /// Width and height as stored, before the orientation.
  public var storedWidth: Int
  public var storedHeight: Int
  /// Colour channels the decoded `Image` has: 1 (grey) or 3 (RGB, also for palettes and CMYK).
  public var colorChannels: Int
  /// Components stored in the file (PNG 1 to 4, JPEG 1, 3 or 4), counting alpha.
  public var storedChannels: Int
  /// Bits per sample in the file: PNG 1, 2, 4, 8 or 16; JPEG 8 (or 12, refused when decoding).
  public var bitDepth: Int
  /// The EXIF orientation, 1...8 (1 when the file has none).
  public var orientation: Int
  public var hasAlpha: Bool
  /// PNG Adam7 interlacing, or JPEG progressive mode.
  public var interlaced: Bool
  /// The colour model as stored: `grey`, `grey+alpha`, `RGB`, `RGBA`, `palette`, `YCbCr`,
  /// `CMYK`, `YCCK`, ...
  public var colorModel: String
  /// JPEG: arithmetic coding.
  public var arithmeticCoded: Bool

  /// Reads the header of the file at `url`.
  public init(contentsOf url: URL) throws(ImageIOError) {
    try self.init(contentsOf: FilePath(url))
  }

  /// Reads the header of the file at `path` (the whole file is read, only the header parsed).
  public init(contentsOf path: FilePath) throws(ImageIOError) {
    let bytes = try readImageFile(path, maxBytes: DecodeLimits().maxFileBytes)
    var raw = tm_info()
    let status = bytes.withUnsafeBufferPointer { tm_read_info($0.baseAddress, $0.count, 1, &raw) }
    try check(status, raw, path: path, bytes: bytes)
    self.init(raw)
  }

  init(_ raw: tm_info) {
    format = Int(raw.format) == TM_FORMAT_PNG ? .png : .jpeg
    storedWidth = Int(raw.width)
    storedHeight = Int(raw.height)
    orientation = (1...8).contains(Int(raw.orientation)) ? Int(raw.orientation) : 1
    let swaps = orientation >= 5
    width = swaps ? storedHeight : storedWidth
    height = swaps ? storedWidth : storedHeight
    hasAlpha = raw.has_alpha != 0
    colorChannels = Int(raw.channels) - (hasAlpha ? 1 : 0)
    storedChannels = Int(raw.source_channels)
    bitDepth = Int(raw.source_bit_depth)
    interlaced = raw.interlaced != 0
    arithmeticCoded = raw.arithmetic != 0
    colorModel = describeColorModel(raw)
  }
}

private func describeColorModel(_ raw: tm_info) -> String {
  if Int(raw.format) == TM_FORMAT_PNG {
    switch raw.source_color {
    case 0: return raw.has_alpha != 0 ? "grey+tRNS" : "grey"
    case 2: return raw.has_alpha != 0 ? "RGB+tRNS" : "RGB"
    case 3: return raw.has_alpha != 0 ? "palette+tRNS" : "palette"
    case 4: return "grey+alpha"
    case 6: return "RGBA"
    default: return "colour type \(raw.source_color)"
    }
  }
  // libjpeg's J_COLOR_SPACE: 1 grey, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK.
  switch raw.source_color {
  case 1: return "grey"
  case 2: return "RGB"
  case 3: return "YCbCr"
  case 4: return raw.palette_or_inverted != 0 ? "CMYK (Adobe, inverted)" : "CMYK"
  case 5: return "YCCK"
  default: return "colour space \(raw.source_color)"
  }
}

extension Image {
  /// Decodes the PNG or JPEG file at `url` (format from the signature, not the name) and
  /// applies its EXIF orientation.
  public init(contentsOf url: URL, limits: DecodeLimits = .init()) throws(ImageIOError) {
    try self.init(contentsOf: FilePath(url), limits: limits)
  }

  /// Decodes the PNG or JPEG file at `path` and applies its EXIF orientation.
  ///
  /// The header is read first and checked against `limits` before any pixel buffer is
  /// allocated. Colour types are normalised by the libraries: palettes and CMYK/YCCK become RGB,
  /// grey stays one channel, alpha (or tRNS) becomes the `alpha` plane, 16-bit samples keep
  /// their 16 bits of precision. Gamma and colour-profile chunks are ignored.
  public init(contentsOf path: FilePath, limits: DecodeLimits = .init()) throws(ImageIOError) {
    let bytes = try readImageFile(path, maxBytes: limits.maxFileBytes)
    try self.init(decoding: bytes, path: path, limits: limits)
  }

  /// Decodes a PNG or JPEG held in memory; `path` only names it in errors.
  public init(decoding bytes: [UInt8], path: FilePath, limits: DecodeLimits = .init())
    throws(ImageIOError)
  {
    // 1. Header and limits.
    var raw = tm_info()
    let strict: Int32 = limits.strictJPEG ? 1 : 0
    var status = bytes.withUnsafeBufferPointer {
      tm_read_info($0.baseAddress, $0.count, strict, &raw)
    }
    try check(status, raw, path: path, bytes: bytes)
    let info = ImageInfo(raw)
    guard info.storedWidth > 0, info.storedHeight > 0 else {
      throw .corrupt(
        path: path, format: info.format,
        reason: "the header gives a size of \(info.storedWidth)×\(info.storedHeight)")
    }
    guard info.storedWidth <= limits.maxPixels / info.storedHeight else {
      throw .tooLarge(
        path: path, width: info.width, height: info.height, maxPixels: limits.maxPixels)
    }
    guard info.width >= limits.minWidth, info.height >= limits.minHeight else {
      throw .tooSmall(
        path: path, width: info.width, height: info.height, minWidth: limits.minWidth,
        minHeight: limits.minHeight)
    }

    // 2. Interleaved samples from the library.
    let channels = Int(raw.channels)
    let bytesPerSample = Int(raw.bit_depth) / 8
    let capacity = info.storedWidth * info.storedHeight * channels * bytesPerSample
    var interleaved = [UInt8](repeating: 0, count: capacity)
    status = bytes.withUnsafeBufferPointer { data in
      interleaved.withUnsafeMutableBufferPointer { pixels in
        tm_decode(data.baseAddress, data.count, strict, &raw, pixels.baseAddress, capacity)
      }
    }
    try check(status, raw, path: path, bytes: bytes)

    // 3. Planes in [0, 1], then upright.
    var image = Image(
      planarFrom: interleaved, width: info.storedWidth, height: info.storedHeight,
      channels: channels, bitDepth: Int(raw.bit_depth), format: info.format)
    image = image.applyingOrientation(info.orientation)
    self = image
  }

  /// Splits interleaved 8- or 16-bit samples (16-bit in host order) into planes in [0, 1].
  /// - Parameter interleaved: `[height, width, channels]` samples; channels 1, 2, 3 or 4, where
  ///   2 and 4 end with alpha.
  init(
    planarFrom interleaved: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int,
    format: ImageFormat?
  ) {
    let colorChannels = channels >= 3 ? 3 : 1
    let hasAlpha = channels == 2 || channels == 4
    let planeSize = width * height
    var planes = [Float](repeating: 0, count: channels * planeSize)
    interleaved.withUnsafeBytes { raw in
      planes.withUnsafeMutableBufferPointer { out in
        // Each level as the float nearest to level / maximum (one rounding, not two).
        if bitDepth == 16 {
          let samples = raw.bindMemory(to: UInt16.self)
          let levels = (0...65535).map { Float($0) / 65535 }
          for index in 0..<planeSize {
            for channel in 0..<channels {
              out[channel * planeSize + index] = levels[Int(samples[index * channels + channel])]
            }
          }
        } else {
          let samples = raw.bindMemory(to: UInt8.self)
          let levels = (0...255).map { Float($0) / 255 }
          for index in 0..<planeSize {
            for channel in 0..<channels {
              out[channel * planeSize + index] = levels[Int(samples[index * channels + channel])]
            }
          }
        }
      }
    }
    let alpha = hasAlpha ? Array(planes[(colorChannels * planeSize)...]) : nil
    if hasAlpha { planes.removeLast(planeSize) }
    self.init(
      width: width, height: height, colorChannels: colorChannels, pixels: planes, alpha: alpha,
      bitDepth: bitDepth, format: format)
  }
}

/// Turns a shim status into the matching error.
private func check(_ status: Int32, _ raw: tm_info, path: FilePath, bytes: [UInt8])
  throws(ImageIOError)
{
  guard Int(status) != TM_OK else { return }
  let message = withUnsafeBytes(of: raw.message) { buffer in
    String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
  }
  let format: ImageFormat =
    Int(tm_detect_format(bytes, bytes.count)) == TM_FORMAT_PNG ? .png : .jpeg
  switch Int(status) {
  case TM_ERROR_NOT_IMAGE: throw .notAnImage(path: path, detected: guessFormat(bytes))
  case TM_ERROR_UNSUPPORTED: throw .unsupported(path: path, format: format, reason: message)
  case TM_ERROR_MEMORY: throw .unreadable(path: path, reason: message)
  case TM_ERROR_BUFFER:
    preconditionFailure("ImageIO sized a buffer wrongly for \(path): \(message)")
  default: throw .corrupt(path: path, format: format, reason: message)
  }
}

/// What a file that is not PNG or JPEG seems to be, from its first bytes.
func guessFormat(_ bytes: [UInt8]) -> String? {
  func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
    bytes.count >= offset + prefix.count && Array(bytes[offset..<(offset + prefix.count)]) == prefix
  }
  if starts(Array("GIF8".utf8)) { return "a GIF image" }
  if starts(Array("BM".utf8)) { return "a BMP image" }
  if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "a WebP image" }
  if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
    return "a TIFF image"
  }
  if starts(Array("ftyp".utf8), at: 4) { return "an HEIF/AVIF or MP4 file" }
  if starts([0xFF, 0xD8]) { return "a JPEG without a valid marker after SOI" }
  if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG with a damaged signature" }
  let head = String(decoding: bytes.prefix(512), as: UTF8.self).lowercased()
  if head.contains("<html") || head.contains("<!doctype") { return "an HTML page" }
  if head.contains("<svg") { return "an SVG drawing" }
  return nil
}

/// Reads a whole regular file. FIFOs, directories and devices are refused without blocking
/// (the file is opened non-blocking and checked with fstat before any read).
func readImageFile(_ path: FilePath, maxBytes: Int = .max) throws(ImageIOError) -> [UInt8] {
  let descriptor = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
  guard descriptor >= 0 else {
    throw .unreadable(path: path, reason: String(cString: strerror(errno)))
  }
  defer { close(descriptor) }

  var status = stat()
  guard fstat(descriptor, &status) == 0 else {
    throw .unreadable(path: path, reason: String(cString: strerror(errno)))
  }
  let type = status.st_mode & S_IFMT
  guard type == S_IFREG else { throw .notARegularFile(path: path, kind: fileKindName(type)) }
  let size = Int(status.st_size)
  guard size > 0 else { throw .emptyFile(path: path) }
  guard size <= maxBytes else { throw .fileTooLarge(path: path, bytes: size, maxBytes: maxBytes) }

  var bytes = [UInt8](repeating: 0, count: size)
  var done = 0
  while done < size {
    let count = bytes.withUnsafeMutableBytes { buffer in
      read(descriptor, buffer.baseAddress! + done, size - done)
    }
    if count < 0 && errno == EINTR { continue }
    guard count >= 0 else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    if count == 0 { break }  // the file shrank while we read it
    done += count
  }
  if done < size { bytes.removeLast(size - done) }
  guard !bytes.isEmpty else { throw .emptyFile(path: path) }
  return bytes
}

/// A name for a file type from `st_mode & S_IFMT`.
func fileKindName(_ type: mode_t) -> String {
  switch type {
  case S_IFDIR: return "a directory"
  case S_IFIFO: return "a FIFO"
  case S_IFCHR: return "a character device"
  case S_IFBLK: return "a block device"
  case S_IFSOCK: return "a socket"
  case S_IFLNK: return "a symbolic link"
  default: return "a special file"
  }
}
