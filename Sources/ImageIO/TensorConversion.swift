/// Image ⇄ Tensor: the models take `[N, C, H, W]` Float32 in [-1, 1].
import Tensors

extension Image {
  /// The image as a tensor `[1, channels, height, width]` with samples mapped from [0, 1] to
  /// [-1, 1] (`2v - 1`). Alpha is left out: carry `alpha` over separately.
  ///
  /// - Parameter channels: 3 (grey is repeated into R, G and B) or 1 (RGB becomes luma
  ///   `0.299 R + 0.587 G + 0.114 B`, as Pillow's conversion to `L`).
  public func tensor(channels: Int = 3) -> Tensor {
    precondition(channels == 1 || channels == 3, "channels must be 1 or 3, got \(channels)")
    let planeSize = width * height
    var scalars = [Float](repeating: 0, count: channels * planeSize)
    if channels == colorChannels {
      for index in 0..<scalars.count { scalars[index] = pixels[index] * 2 - 1 }
    } else if channels == 3 {
      for channel in 0..<3 {
        for index in 0..<planeSize {
          scalars[channel * planeSize + index] = pixels[index] * 2 - 1
        }
      }
    } else {
      for index in 0..<planeSize {
        let luma =
          0.299 * pixels[index] + 0.587 * pixels[planeSize + index] + 0.114
          * pixels[2 * planeSize + index]
        scalars[index] = luma * 2 - 1
      }
    }
    return Tensor(shape: [1, channels, height, width], scalars: scalars)
  }

  /// An image from a tensor `[1, C, H, W]` or `[C, H, W]` with C = 1 or 3 and samples in
  /// [-1, 1] (values outside are clamped; NaN becomes mid grey, 0.5 in the image).
  /// - Parameters:
  ///   - bitDepth: the precision to record for encoding (8 or 16).
  ///   - alpha: `[H, W]` in [0, 1] to carry over from the source image, or `nil`.
  public init(tensor: Tensor, bitDepth: Int = 8, alpha: [Float]? = nil) {
    let shape = tensor.shape
    precondition(
      (shape.count == 4 && shape[0] == 1) || shape.count == 3,
      "expected a tensor [1, C, H, W] or [C, H, W], got \(shape)")
    let dims = Array(shape.suffix(3))
    precondition(dims[0] == 1 || dims[0] == 3, "expected 1 or 3 channels, got \(shape)")
    let pixels = tensor.scalars.map { value -> Float in
      guard !value.isNaN else { return 0.5 }
      return (min(max(value, -1), 1) + 1) / 2
    }
    self.init(
      width: dims[2], height: dims[1], colorChannels: dims[0], pixels: pixels, alpha: alpha,
      bitDepth: bitDepth)
  }
}
