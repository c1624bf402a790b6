/// The decoded image: planes of Float32 samples in [0, 1], with alpha kept apart.

/// The file formats Transmute reads and writes. The format of a file is taken from its
/// signature, never from its name.
public enum ImageFormat: String, Sendable, CaseIterable {
  case png
  case jpeg

  /// `PNG` or `JPEG`, for messages.
  public var displayName: String { rawValue.uppercased() }
}

/// A decoded image: `colorChannels` planes of Float32 samples in [0, 1], laid out
/// `[colorChannels, height, width]` row-major, plus an optional alpha plane `[height, width]`.
///
/// Decoding applies the EXIF orientation, so `width` and `height` are those of the upright
/// image. `bitDepth` records the precision of the source (8 or 16) so that a 16-bit input can be
/// written back as 16-bit; PNGs of 1, 2 and 4 bits and palettes count as 8.
public struct Image: Sendable, Equatable {
  public var width: Int
  public var height: Int
  /// 1 (grey) or 3 (RGB).
  public var colorChannels: Int
  /// `[colorChannels, height, width]`, row-major, each sample in [0, 1] (unless resized with
  /// `clampingEachPass: false`, when bicubic can ring slightly outside; encoding clamps).
  public var pixels: [Float]
  /// `[height, width]` in [0, 1] (1 is opaque), when the source had an alpha channel or tRNS.
  public var alpha: [Float]?
  /// 8 or 16: the bits per sample of the source, used as the default when encoding PNG.
  public var bitDepth: Int
  /// The format the image was decoded from; `nil` for an image made in memory.
  public var format: ImageFormat?

  /// An image from its planes. Preconditions check that the sizes agree.
  /// - Parameters:
  ///   - pixels: `[colorChannels, height, width]` samples in [0, 1].
  ///   - alpha: `[height, width]` in [0, 1], or `nil` for an opaque image.
  public init(
    width: Int, height: Int, colorChannels: Int, pixels: [Float], alpha: [Float]? = nil,
    bitDepth: Int = 8, format: ImageFormat? = nil
  ) {
    precondition(width > 0 && height > 0, "image size must be positive, got \(width)×\(height)")
    precondition(
      colorChannels == 1 || colorChannels == 3, "colorChannels must be 1 or 3, got \(colorChannels)"
    )
    precondition(
      pixels.count == colorChannels * height * width,
      "pixels has \(pixels.count) samples, expected \(colorChannels)×\(height)×\(width)")
    precondition(
      alpha == nil || alpha?.count == height * width,
      "alpha has \(alpha?.count ?? 0) samples, expected \(height)×\(width)")
    precondition(bitDepth == 8 || bitDepth == 16, "bitDepth must be 8 or 16, got \(bitDepth)")
    self.width = width
    self.height = height
    self.colorChannels = colorChannels
    self.pixels = pixels
    self.alpha = alpha
    self.bitDepth = bitDepth
    self.format = format
  }

  /// The number of pixels, `width * height`.
  public var pixelCount: Int { width * height }

  /// The sample of `channel` at column `x`, row `y`.
  @inlinable
  public func sample(channel: Int, x: Int, y: Int) -> Float {
    pixels[(channel * height + y) * width + x]
  }
}
