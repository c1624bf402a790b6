/// The steps around the model for one image: decode and prepare (resize, channels, padding,
/// tensor), then finish (crop back, channels, alpha, bit depth) and encode. Each step is a pure
/// function of its inputs, so the pipeline can run them on other threads than the model.
import Foundation
import ImageIO
import Tensors

/// Why one image could not be translated, besides the decoder's and encoder's own errors.
public enum TranslationError: Error, Equatable, CustomStringConvertible {
  /// The model would need more memory than allowed for an image this large.
  case needsTooMuchMemory(path: FilePath, width: Int, height: Int, needed: Int, limit: Int)
  /// The output's folder could not be created.
  case cannotCreateFolder(path: FilePath, reason: String)

  /// The reason alone, without the path.
  public var reason: String {
    switch self {
    case .needsTooMuchMemory(_, let width, let height, let needed, let limit):
      return
        "translating it at \(width)×\(height) needs about \(gibibytes(needed)) of memory, above "
        + "the limit of \(gibibytes(limit)); raise --memory-limit or shrink it with --size or "
        + "--scale-width"
    case .cannotCreateFolder(let folder, let reason):
      return "cannot create the output folder \(folder): \(reason)"
    }
  }

  public var description: String {
    switch self {
    case .needsTooMuchMemory(let path, _, _, _, _): return "\(path): \(reason)"
    case .cannotCreateFolder(let path, _): return "\(path): \(reason)"
    }
  }
}

/// `bytes` as GiB with one decimal (`3.2 GiB`).
func gibibytes(_ bytes: Int) -> String {
  String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
}

/// What the model needs to know about one input, and what finishing its output needs.
struct PreparedImage: Sendable {
  /// `[1, inputChannels, H + padding, W + padding]` in [-1, 1].
  var tensor: Tensor
  /// The reflection padding added around the working-size image.
  var padding: Padding
  /// The alpha plane at the working size, `[H, W]`, if the input had one.
  var alpha: [Float]?
  /// Whether the input was grey.
  var wasGrey: Bool
  /// The input's bit depth (8 or 16).
  var bitDepth: Int
  /// The working-size input, kept for `--compare` only.
  var source: Image?
}

/// The translation of one image between its file and the model.
public struct ImageTranslation: Sendable {
  /// What the model takes and gives.
  public var inputChannels: Int
  public var outputChannels: Int
  public var sizeMultiple: Int
  public var minimumSize: Int
  /// The model's peak memory as a function of the padded size.
  public var memoryEstimate: MemoryEstimate
  public var options: TranslationOptions

  public init(translator: some ImageTranslator, options: TranslationOptions) {
    inputChannels = translator.inputChannels
    outputChannels = translator.outputChannels
    sizeMultiple = translator.sizeMultiple
    minimumSize = translator.minimumSize
    memoryEstimate = translator.memoryEstimate
    self.options = options
  }

  /// The size the model sees for an upright image of `width` × `height`.
  public func workingSize(width: Int, height: Int) -> (width: Int, height: Int) {
    switch options.resizing {
    case .original: return (width, height)
    case .square(let side): return (side, side)
    case .scaleWidth(let target):
      return (target, max(1, Int((Double(target) * Double(height) / Double(width)).rounded())))
    }
  }

  /// The reflection padding that brings a `width` × `height` image to multiples of
  /// `sizeMultiple` and at least `minimumSize`, split evenly (the odd pixel right or bottom).
  public func modelPadding(width: Int, height: Int) -> Padding {
    func extra(_ extent: Int) -> Int {
      let target = max(minimumSize, (extent + sizeMultiple - 1) / sizeMultiple * sizeMultiple)
      return (target + sizeMultiple - 1) / sizeMultiple * sizeMultiple - extent
    }
    let x = extra(width)
    let y = extra(height)
    return Padding(left: x / 2, right: x - x / 2, top: y / 2, bottom: y - y / 2)
  }

  /// Decodes the file at `path` and prepares it for the model.
  func prepare(_ path: FilePath, keepingSource: Bool) throws -> PreparedImage {
    let decoded = try Image(contentsOf: path, limits: options.decodeLimits)
    return try prepare(decoded, path: path, keepingSource: keepingSource)
  }

  /// Prepares a decoded, upright image for the model: resized to the working size, padded,
  /// turned into a tensor with the model's channels. Fails when the model would need more
  /// memory than `options.memoryLimitBytes`.
  func prepare(_ decoded: Image, path: FilePath, keepingSource: Bool) throws -> PreparedImage {
    let size = workingSize(width: decoded.width, height: decoded.height)
    let padding = modelPadding(width: size.width, height: size.height)
    let paddedWidth = size.width + padding.left + padding.right
    let paddedHeight = size.height + padding.top + padding.bottom
    let needed = memoryEstimate.bytes(height: paddedHeight, width: paddedWidth)
    guard needed <= options.memoryLimitBytes else {
      throw TranslationError.needsTooMuchMemory(
        path: path, width: size.width, height: size.height, needed: needed,
        limit: options.memoryLimitBytes)
    }

    var image = decoded
    if size.width != image.width || size.height != image.height {
      image = image.resized(width: size.width, height: size.height)
    }
    let tensor = image.reflectPadded(padding).tensor(channels: inputChannels)
    return PreparedImage(
      tensor: tensor, padding: padding, alpha: image.alpha, wasGrey: image.colorChannels == 1,
      bitDepth: image.bitDepth, source: keepingSource ? image : nil)
  }

  /// The model's output as the image to write: padding removed, grey kept grey when asked,
  /// alpha carried over, the input's bit depth for PNG (JPEG is always 8-bit).
  func finish(_ output: Tensor, _ prepared: PreparedImage, format: ImageFormat) -> Image {
    let bitDepth = format == .png ? prepared.bitDepth : 8
    var image = Image(tensor: output, bitDepth: bitDepth).removingPadding(prepared.padding)
    if image.colorChannels == 3 && prepared.wasGrey && options.keepGrey {
      image = Image(tensor: image.tensor(channels: 1), bitDepth: bitDepth)
    }
    image.alpha = prepared.alpha
    return image
  }

  /// How `image` is encoded in `format` under these options.
  func encodeOptions(_ format: ImageFormat, bitDepth: Int) -> EncodeOptions {
    format == .png ? .png(bitDepth: bitDepth) : .jpeg(quality: options.jpegQuality)
  }

  /// Translates one decoded image in memory with `translator` (which must be the one this was
  /// made from): the whole path of a file but the decoding and encoding.
  public func translate(
    _ image: Image, with translator: some ImageTranslator, format: ImageFormat = .png
  ) throws -> Image {
    let prepared = try prepare(image, path: FilePath("<memory>"), keepingSource: false)
    return finish(translator.translate(prepared.tensor), prepared, format: format)
  }
}

/// `left` and `right` side by side, same height, for `--compare`: grey is shown as RGB when
/// the other side has colour, and alpha is composited over white.
func sideBySide(_ left: Image, _ right: Image) -> Image {
  precondition(left.height == right.height, "heights differ: \(left.height), \(right.height)")
  let channels = max(left.colorChannels, right.colorChannels)
  func opaque(_ image: Image) -> Image {
    let flat = image.compositedOverWhite()
    return flat.colorChannels == channels ? flat : Image(tensor: flat.tensor(channels: channels))
  }
  let a = opaque(left)
  let b = opaque(right)
  let width = a.width + b.width
  let height = a.height
  var pixels = [Float]()
  pixels.reserveCapacity(channels * width * height)
  for channel in 0..<channels {
    for row in 0..<height {
      let leftStart = (channel * height + row) * a.width
      let rightStart = (channel * height + row) * b.width
      pixels += a.pixels[leftStart..<(leftStart + a.width)]
      pixels += b.pixels[rightStart..<(rightStart + b.width)]
    }
  }
  return Image(width: width, height: height, colorChannels: channels, pixels: pixels)
}

/// Creates `folder` and its missing parents (`mkdir -p`).
func makeFolders(_ folder: FilePath) throws(TranslationError) {
  if folder.fileKind == .folder { return }
  let parent = folder.parent
  if parent != folder && parent.bytes.count < folder.bytes.count { try makeFolders(parent) }
  let made = folder.withCString { mkdir($0, 0o777) }
  if made != 0 && errno != EEXIST {
    throw .cannotCreateFolder(path: folder, reason: String(cString: strerror(errno)))
  }
}
