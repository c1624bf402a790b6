/// Writing PNG and JPEG files through the CImageCodecs shim, atomically: the bytes go to a
/// temporary file in the destination folder, which is then renamed over the destination.
import CImageCodecs
import Foundation

/// Chroma subsampling of a JPEG: full (4:4:4), half horizontally (4:2:2) or half both ways
/// (4:2:0, the usual choice for photos).
public enum ChromaSubsampling: String, Sendable, CaseIterable {
  case s444 = "444"
  case s422 = "422"
  case s420 = "420"
}

/// How to encode an image.
public enum EncodeOptions: Sendable, Equatable {
  /// PNG with 8 or 16 bits per sample; `nil` takes the image's own `bitDepth`. Grey or RGB,
  /// with alpha when the image has it.
  case png(bitDepth: Int? = nil)
  /// Baseline JPEG, quality 1...100. Alpha is composited over white first (JPEG has none).
  case jpeg(quality: Int = 95, subsampling: ChromaSubsampling = .s420)

  /// The format this writes.
  public var format: ImageFormat {
    switch self {
    case .png: return .png
    case .jpeg: return .jpeg
    }
  }
}

extension Image {
  /// Encodes the image and writes it to `url` atomically.
  public func write(to url: URL, as options: EncodeOptions) throws(ImageIOError) {
    try write(to: FilePath(url), as: options)
  }

  /// Encodes the image and writes it to `path` atomically: the file at `path` is either the
  /// old one or the complete new one, never a partial write. The folder must exist.
  public func write(to path: FilePath, as options: EncodeOptions) throws(ImageIOError) {
    let bytes = try encoded(as: options, path: path)
    try writeAtomically(bytes, to: path)
  }

  /// The encoded file's bytes; `path` only names the file in errors.
  public func encoded(as options: EncodeOptions, path: FilePath = "<memory>")
    throws(ImageIOError) -> [UInt8]
  {
    var output = tm_buffer()
    var message = [CChar](repeating: 0, count: Int(TM_MESSAGE_CAPACITY))
    let status: Int32
    switch options {
    case .png(let requested):
      let depth = requested ?? bitDepth
      precondition(depth == 8 || depth == 16, "PNG bit depth must be 8 or 16, got \(depth)")
      let channels = colorChannels + (alpha == nil ? 0 : 1)
      let samples = interleavedSamples(includingAlpha: true, bitDepth: depth)
      status = samples.withUnsafeBufferPointer { buffer in
        tm_encode_png(
          buffer.baseAddress, UInt32(width), UInt32(height), Int32(channels), Int32(depth),
          &output, &message, message.count)
      }
    case .jpeg(let quality, let subsampling):
      precondition((1...100).contains(quality), "JPEG quality must be 1...100, got \(quality)")
      let mode: Int32
      switch subsampling {
      case .s444: mode = Int32(TM_JPEG_SUBSAMPLING_444)
      case .s422: mode = Int32(TM_JPEG_SUBSAMPLING_422)
      case .s420: mode = Int32(TM_JPEG_SUBSAMPLING_420)
      }
      let samples = compositedOverWhite().interleavedSamples(includingAlpha: false, bitDepth: 8)
      status = samples.withUnsafeBufferPointer { buffer in
        tm_encode_jpeg(
          buffer.baseAddress, UInt32(width), UInt32(height), Int32(colorChannels),
          Int32(quality), mode, &output, &message, message.count)
      }
    }
    defer { tm_buffer_free(&output) }
    guard Int(status) == TM_OK, let data = output.data else {
      let text = String(
        decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
        as: UTF8.self)
      throw .writeFailed(path: path, reason: "\(options.format.displayName) encoder: \(text)")
    }
    return Array(UnsafeBufferPointer(start: data, count: output.size))
  }

  /// The image with its alpha plane composited over a white background, and no alpha.
  public func compositedOverWhite() -> Image {
    guard let alpha else { return self }
    let planeSize = width * height
    var pixels = self.pixels
    for channel in 0..<colorChannels {
      for index in 0..<planeSize {
        let a = min(max(alpha[index], 0), 1)
        pixels[channel * planeSize + index] = pixels[channel * planeSize + index] * a + (1 - a)
      }
    }
    return Image(
      width: width, height: height, colorChannels: colorChannels, pixels: pixels, alpha: nil,
      bitDepth: bitDepth, format: format)
  }

  /// Interleaved samples `[height, width, channels]`, rounded to the nearest 8- or 16-bit
  /// value after clamping to [0, 1]; 16-bit samples in host byte order.
  func interleavedSamples(includingAlpha: Bool, bitDepth depth: Int) -> [UInt8] {
    let planeSize = width * height
    var planes: [ArraySlice<Float>] = (0..<colorChannels).map {
      pixels[($0 * planeSize)..<(($0 + 1) * planeSize)]
    }
    if includingAlpha, let alpha { planes.append(alpha[...]) }
    let channels = planes.count
    let maximum: Float = depth == 16 ? 65535 : 255
    func quantize(_ value: Float) -> Float {
      guard !value.isNaN else { return 0 }
      return (min(max(value, 0), 1) * maximum).rounded()
    }
    if depth == 16 {
      var samples = [UInt16](repeating: 0, count: planeSize * channels)
      for (channel, plane) in planes.enumerated() {
        for index in 0..<planeSize {
          samples[index * channels + channel] = UInt16(quantize(plane[plane.startIndex + index]))
        }
      }
      return samples.withUnsafeBytes { Array($0) }
    }
    var samples = [UInt8](repeating: 0, count: planeSize * channels)
    for (channel, plane) in planes.enumerated() {
      for index in 0..<planeSize {
        samples[index * channels + channel] = UInt8(quantize(plane[plane.startIndex + index]))
      }
    }
    return samples
  }
}

/// Writes `bytes` to a new temporary file beside `path`, flushes it, and renames it to `path`.
/// On any failure the temporary file is removed and the destination is left untouched.
public func writeAtomically(_ bytes: [UInt8], to path: FilePath) throws(ImageIOError) {
  let folder = path.parent
  let name = path.lastComponent

  // A fresh name beside the destination (the name cut to 200 bytes so that the temporary name
  // stays within the 255-byte limit), created exclusively with mode 0666 so that the
  // process's umask applies as for any new file (reading the umask would mean changing it,
  // which races with other threads creating files).
  var temporary = path
  var descriptor: Int32 = -1
  for _ in 0..<64 {
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    temporary = folder.appending(
      FilePath(bytes: Array(".".utf8) + name.bytes.prefix(200) + Array(".tmp-\(suffix)".utf8)))
    descriptor = temporary.withCString {
      open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    }
    if descriptor >= 0 || errno != EEXIST { break }
  }
  guard descriptor >= 0 else {
    throw .writeFailed(
      path: path, reason: "cannot create a temporary file in \(folder): \(errorText())")
  }
  var failure: String? = nil

  var done = 0
  while done < bytes.count && failure == nil {
    let count = bytes.withUnsafeBytes {
      write(descriptor, $0.baseAddress! + done, bytes.count - done)
    }
    if count < 0 {
      if errno != EINTR { failure = errorText() }
    } else {
      done += count
    }
  }
  if failure == nil && fsync(descriptor) != 0 { failure = errorText() }
  if close(descriptor) != 0 && failure == nil { failure = errorText() }
  if failure == nil {
    let renamed = temporary.withCString { from in path.withCString { to in rename(from, to) } }
    if renamed != 0 { failure = errorText() }
  }
  if let failure {
    _ = temporary.withCString { unlink($0) }
    throw .writeFailed(path: path, reason: failure)
  }
}

func errorText() -> String { String(cString: strerror(errno)) }
