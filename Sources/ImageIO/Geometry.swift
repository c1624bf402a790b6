/// Orientation, crops, flips and reflect padding: pure index shuffles over the planes.

/// Pixels added on each side by `Image.reflectPadded(toMultipleOf:)`, to be removed again by
/// `Image.removingPadding(_:)`.
public struct Padding: Sendable, Equatable {
  public var left: Int
  public var right: Int
  public var top: Int
  public var bottom: Int

  public init(left: Int = 0, right: Int = 0, top: Int = 0, bottom: Int = 0) {
    precondition(
      left >= 0 && right >= 0 && top >= 0 && bottom >= 0,
      "padding must not be negative: \(left), \(right), \(top), \(bottom)")
    self.left = left
    self.right = right
    self.top = top
    self.bottom = bottom
  }

  /// No padding at all.
  public static let zero = Padding()
}

extension Image {
  /// A new image of size `width`×`height` whose pixel (x, y) is this image's pixel
  /// `source(x, y)`, for every plane including alpha.
  func remapped(width: Int, height: Int, source: (Int, Int) -> (Int, Int)) -> Image {
    // One output row at a time, so the index map costs `width` integers, not one per pixel.
    let oldPlane = self.width * self.height
    let planeSize = width * height
    let planeCount = colorChannels + (alpha == nil ? 0 : 1)
    var planes = [Float](repeating: 0, count: planeCount * planeSize)
    var rowMap = [Int](repeating: 0, count: width)
    let alphaPlane = alpha ?? []
    self.pixels.withUnsafeBufferPointer { colour in
      alphaPlane.withUnsafeBufferPointer { alpha in
        planes.withUnsafeMutableBufferPointer { out in
          for y in 0..<height {
            for x in 0..<width {
              let (sx, sy) = source(x, y)
              rowMap[x] = sy * self.width + sx
            }
            for plane in 0..<planeCount {
              let input =
                plane < colorChannels ? colour.baseAddress! + plane * oldPlane : alpha.baseAddress!
              let row = out.baseAddress! + plane * planeSize + y * width
              for x in 0..<width { row[x] = input[rowMap[x]] }
            }
          }
        }
      }
    }
    let alphaOut = alpha == nil ? nil : Array(planes[(colorChannels * planeSize)...])
    if alpha != nil { planes.removeLast(planeSize) }
    return Image(
      width: width, height: height, colorChannels: colorChannels, pixels: planes,
      alpha: alphaOut, bitDepth: bitDepth, format: format)
  }

  /// The image turned upright for an EXIF orientation value (1...8): 2 mirrors, 3 turns by
  /// 180°, 4 flips vertically, 5 transposes, 6 turns 90° clockwise, 7 transverses, 8 turns 90°
  /// counter-clockwise. Other values leave the image as it is.
  public func applyingOrientation(_ orientation: Int) -> Image {
    let w = width
    let h = height
    switch orientation {
    case 2: return remapped(width: w, height: h) { x, y in (w - 1 - x, y) }
    case 3: return remapped(width: w, height: h) { x, y in (w - 1 - x, h - 1 - y) }
    case 4: return remapped(width: w, height: h) { x, y in (x, h - 1 - y) }
    case 5: return remapped(width: h, height: w) { x, y in (y, x) }
    case 6: return remapped(width: h, height: w) { x, y in (y, h - 1 - x) }
    case 7: return remapped(width: h, height: w) { x, y in (w - 1 - y, h - 1 - x) }
    case 8: return remapped(width: h, height: w) { x, y in (w - 1 - y, x) }
    default: return self
    }
  }

  /// The rectangle of `width`×`height` pixels whose top-left corner is (`x`, `y`); it must lie
  /// inside the image.
  public func cropped(x: Int, y: Int, width: Int, height: Int) -> Image {
    precondition(
      x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= self.width
        && y + height <= self.height,
      "crop \(width)×\(height) at (\(x), \(y)) is outside the \(self.width)×\(self.height) image")
    return remapped(width: width, height: height) { cx, cy in (cx + x, cy + y) }
  }

  /// The image mirrored left to right.
  public func flippedHorizontally() -> Image {
    let w = width
    return remapped(width: w, height: height) { x, y in (w - 1 - x, y) }
  }

  /// The image mirrored top to bottom.
  public func flippedVertically() -> Image {
    let h = height
    return remapped(width: width, height: h) { x, y in (x, h - 1 - y) }
  }

  /// The image grown by reflection (mirroring about the edge pixels, which are not repeated,
  /// as PyTorch's `ReflectionPad2d`) so that both sides are multiples of `multiple`. The extra
  /// pixels are split between the sides, the odd one going right or bottom. Images smaller than
  /// the padding reflect back and forth. Undo with `removingPadding(_:)`.
  public func reflectPadded(toMultipleOf multiple: Int) -> (image: Image, padding: Padding) {
    precondition(multiple >= 1, "multiple must be at least 1, got \(multiple)")
    let extraX = (multiple - width % multiple) % multiple
    let extraY = (multiple - height % multiple) % multiple
    let padding = Padding(
      left: extraX / 2, right: extraX - extraX / 2, top: extraY / 2, bottom: extraY - extraY / 2)
    return (reflectPadded(padding), padding)
  }

  /// The image grown by `padding` pixels on each side, by reflection.
  public func reflectPadded(_ padding: Padding) -> Image {
    if padding == .zero { return self }
    let w = width
    let h = height
    return remapped(
      width: w + padding.left + padding.right, height: h + padding.top + padding.bottom
    ) { x, y in
      (reflectIndex(x - padding.left, count: w), reflectIndex(y - padding.top, count: h))
    }
  }

  /// The image with `padding` removed from each side (the inverse of `reflectPadded`).
  public func removingPadding(_ padding: Padding) -> Image {
    if padding == .zero { return self }
    return cropped(
      x: padding.left, y: padding.top, width: width - padding.left - padding.right,
      height: height - padding.top - padding.bottom)
  }
}

/// The index inside `0..<count` that reflection about the end samples maps `index` to.
func reflectIndex(_ index: Int, count: Int) -> Int {
  guard count > 1 else { return 0 }
  let period = 2 * (count - 1)
  var folded = index % period
  if folded < 0 { folded += period }
  return folded < count ? folded : period - folded
}
