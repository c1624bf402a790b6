/// The choices of a translation run that do not depend on the model.
import ImageIO

/// How images are sized for the model.
public enum Resizing: Sendable, Equatable {
  /// Keep each image's own size: reflect-pad to what the model needs, crop back afterwards.
  case original
  /// Resize to `side` × `side` (`--size N`, the reference's `resize` at test time).
  case square(side: Int)
  /// Resize to `width` wide keeping the aspect ratio (`--scale-width N`).
  case scaleWidth(width: Int)
}

/// Options of a translation run (`transmute translate`).
public struct TranslationOptions: Sendable, Equatable {
  /// The format of every output, or nil for each input's own format.
  public var format: ImageFormat?
  /// JPEG quality, 1...100.
  public var jpegQuality: Int
  /// The size the model sees and the output has.
  public var resizing: Resizing
  /// Write grey inputs as grey even when the model makes RGB (`--keep-grey`).
  public var keepGrey: Bool
  /// Leave inputs whose output already exists alone (`--skip-existing`).
  public var skipExisting: Bool
  /// Limits checked from each file's header before decoding.
  public var decodeLimits: DecodeLimits
  /// The most memory the model may need for one image, in bytes; larger images fail with a
  /// clear reason instead of exhausting the machine.
  public var memoryLimitBytes: Int
  /// How many decoded images may wait for the model, and how many results for the encoder.
  public var queueDepth: Int

  public init(
    format: ImageFormat? = nil, jpegQuality: Int = 95, resizing: Resizing = .original,
    keepGrey: Bool = false, skipExisting: Bool = false, decodeLimits: DecodeLimits = .init(),
    memoryLimitBytes: Int = 8 << 30, queueDepth: Int = 2
  ) {
    precondition(
      (1...100).contains(jpegQuality), "JPEG quality must be 1...100, got \(jpegQuality)")
    precondition(memoryLimitBytes > 0, "memory limit must be positive, got \(memoryLimitBytes)")
    precondition(queueDepth >= 1, "queue depth must be at least 1, got \(queueDepth)")
    if case .square(let side) = resizing { precondition(side >= 1, "--size \(side) < 1") }
    if case .scaleWidth(let width) = resizing { precondition(width >= 1, "width \(width) < 1") }
    self.format = format
    self.jpegQuality = jpegQuality
    self.resizing = resizing
    self.keepGrey = keepGrey
    self.skipExisting = skipExisting
    self.decodeLimits = decodeLimits
    self.memoryLimitBytes = memoryLimitBytes
    self.queueDepth = queueDepth
  }
}
