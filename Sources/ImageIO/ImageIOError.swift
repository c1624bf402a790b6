/// The errors of image reading and writing. Every case names the file and the reason.

/// Why an image could not be read or written. The description reads
/// `PATH: reason`, ready to print.
public enum ImageIOError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file could not be opened or read (missing, permission, I/O error).
  case unreadable(path: FilePath, reason: String)
  /// The path is not a regular file (a directory, a FIFO, a device, a socket).
  case notARegularFile(path: FilePath, kind: String)
  /// The file has no bytes.
  case emptyFile(path: FilePath)
  /// The signature is not PNG or JPEG; `detected` names what it looks like, when known.
  case notAnImage(path: FilePath, detected: String?)
  /// The data is damaged: truncated, bad CRC, bad zlib stream, corrupt JPEG data, bad header.
  case corrupt(path: FilePath, format: ImageFormat, reason: String)
  /// A valid file of a kind Transmute does not decode (12-bit JPEG).
  case unsupported(path: FilePath, format: ImageFormat, reason: String)
  /// The header announces more pixels than `DecodeLimits.maxPixels`.
  case tooLarge(path: FilePath, width: Int, height: Int, maxPixels: Int)
  /// The file is larger than any PNG or JPEG within the pixel limit can be, so it is not read.
  case fileTooLarge(path: FilePath, bytes: Int, maxBytes: Int)
  /// The image is smaller than `DecodeLimits.minWidth` × `minHeight`.
  case tooSmall(path: FilePath, width: Int, height: Int, minWidth: Int, minHeight: Int)
  /// Encoding or writing the output failed.
  case writeFailed(path: FilePath, reason: String)

  /// The file the error is about.
  public var path: FilePath {
    switch self {
    case .unreadable(let path, _), .notARegularFile(let path, _), .emptyFile(let path),
      .notAnImage(let path, _), .corrupt(let path, _, _), .unsupported(let path, _, _),
      .tooLarge(let path, _, _, _), .fileTooLarge(let path, _, _), .tooSmall(let path, _, _, _, _),
      .writeFailed(let path, _):
      return path
    }
  }

  /// The reason alone, without the path.
  public var reason: String {
    switch self {
    case .unreadable(_, let reason): return "cannot read the file: \(reason)"
    case .notARegularFile(_, let kind): return "not a regular file (\(kind))"
    case .emptyFile: return "the file is empty (0 bytes)"
    case .notAnImage(_, let detected):
      return "not a PNG or JPEG file" + (detected.map { " (it looks like \($0))" } ?? "")
    case .corrupt(_, let format, let reason): return "damaged \(format.displayName): \(reason)"
    case .unsupported(_, let format, let reason):
      return "unsupported \(format.displayName): \(reason)"
    case .tooLarge(_, let width, let height, let maxPixels):
      return
        "the image is \(width)×\(height) = \(width * height) pixels, above the limit of "
        + "\(maxPixels) pixels, set to keep memory bounded (see docs/IMAGES.md)"
    case .fileTooLarge(_, let bytes, let maxBytes):
      return
        "the file is \(bytes) bytes, more than an image within the pixel limit can take "
        + "(\(maxBytes) bytes); it was not read"
    case .tooSmall(_, let width, let height, let minWidth, let minHeight):
      return "the image is \(width)×\(height), smaller than the minimum \(minWidth)×\(minHeight)"
    case .writeFailed(_, let reason): return "cannot write the image: \(reason)"
    }
  }

  public var description: String { "\(path): \(reason)" }
}
