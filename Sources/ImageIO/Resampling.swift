/// Resampling as Pillow's `Image.resize` does it: separable, horizontal pass then vertical pass, each output sample a normalised weighted sum over a
/// window that widens with the scale factor when shrinking (antialiasing). Nearest picks the sample under the
/// output pixel's centre.

/// The resampling filter of `Image.resized`.
public enum ResamplingFilter: String, Sendable, CaseIterable {
  /// Cubic convolution with a = -0.5 (Keys), support 2, antialiased (Pillow's `BICUBIC`).
  case bicubic
  /// Triangle filter, support 1, antialiased (Pillow's `BILINEAR`).
  case bilinear
  /// The input pixel under each output pixel's centre (Pillow's `NEAREST`).
  case nearest

  var support: Double {
    switch self {
    case .bicubic: return 2
    case .bilinear: return 1
    case .nearest: return 0.5
    }
  }

  func weight(_ distance: Double) -> Double {
    let x = abs(distance)
    switch self {
    case .bicubic:
      let a = -0.5
      if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
      if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
      return 0
    case .bilinear:
      return x < 1 ? 1 - x : 0
    case .nearest:
      return x <= 0.5 ? 1 : 0
    }
  }
}

/// For each output index, the first input index and the normalised weights of its window,
/// stored flat: output `i` uses `weights[i * kernelSize ..< i * kernelSize + counts[i]]`.
struct ResamplingWindows {
  var starts: [Int] = []
  var counts: [Int] = []
  var kernelSize: Int
  var weights: [Float]

  init(inputSize: Int, outputSize: Int, filter: ResamplingFilter) {
    let scale = Double(inputSize) / Double(outputSize)
    let filterScale = max(scale, 1)
    let support = filter.support * filterScale
    kernelSize = Int((support).rounded(.up)) * 2 + 1
    weights = [Float](repeating: 0, count: outputSize * kernelSize)
    for output in 0..<outputSize {
      let center = (Double(output) + 0.5) * scale
      // Truncation toward zero, then clamping, as Pillow bounds its windows.
      let first = max(Int(center - support + 0.5), 0)
      let end = min(max(Int(center + support + 0.5), first), inputSize, first + kernelSize)
      let window = (first..<end).map { filter.weight((Double($0) - center + 0.5) / filterScale) }
      let total = window.reduce(0, +)
      for (k, weight) in window.enumerated() {
        weights[output * kernelSize + k] = Float(total != 0 ? weight / total : weight)
      }
      starts.append(first)
      counts.append(end - first)
    }
  }
}

extension Image {
  /// The image resampled to `width`×`height` (alpha too), as Pillow's `resize` does: the same
  /// windows and weights, a horizontal pass then a vertical one, sums in single precision.
  ///
  /// - Parameter clampingEachPass: clamp each pass's result to [0, 1], as Pillow clamps 8-bit
  ///   images to 0...255 after each pass (the default: results stay in [0, 1] and are within
  ///   two levels of Pillow's 8-bit `RGB` resize). `false` gives Pillow's float (`F`) resize,
  ///   within 1e-5, whose bicubic rings slightly outside [0, 1] next to sharp edges.
  ///
  /// > Note: Pillow resizes 8-bit images in fixed point, rounds to 8 bits between the passes,
  /// > and (Pillow 13, which wrote the references) sometimes runs the vertical pass first, so
  /// > 8-bit results can only be matched within a level or two. Alpha is resized as its own
  /// > plane, not premultiplied as Pillow does for `RGBA`.
  public func resized(
    width: Int, height: Int, filter: ResamplingFilter = .bicubic, clampingEachPass: Bool = true
  ) -> Image {
    precondition(width > 0 && height > 0, "resize to \(width)×\(height): sizes must be positive")
    if width == self.width && height == self.height { return self }
    if filter == .nearest { return resizedNearest(width: width, height: height) }

    let horizontal = ResamplingWindows(inputSize: self.width, outputSize: width, filter: filter)
    let vertical = ResamplingWindows(inputSize: self.height, outputSize: height, filter: filter)
    let planeSize = self.width * self.height
    var pixels: [Float] = []
    pixels.reserveCapacity(colorChannels * width * height)
    for channel in 0..<colorChannels {
      pixels += resamplePlane(
        self.pixels[(channel * planeSize)..<((channel + 1) * planeSize)], width: width,
        height: height, horizontal: horizontal, vertical: vertical, clamping: clampingEachPass)
    }
    return Image(
      width: width, height: height, colorChannels: colorChannels, pixels: pixels,
      alpha: alpha.map {
        resamplePlane(
          $0[...], width: width, height: height, horizontal: horizontal, vertical: vertical,
          clamping: clampingEachPass)
      }, bitDepth: bitDepth, format: format)
  }

  /// One plane `[self.height, self.width]` resampled to `[height, width]`.
  func resamplePlane(
    _ plane: ArraySlice<Float>, width: Int, height: Int, horizontal: ResamplingWindows,
    vertical: ResamplingWindows, clamping: Bool
  ) -> [Float] {
    let low: Float = clamping ? 0 : -.infinity
    let high: Float = clamping ? 1 : .infinity
    let inWidth = self.width
    let inHeight = self.height

    // Horizontal pass: [inHeight, inWidth] -> [inHeight, width].
    var rows: [Float]
    if width == inWidth {
      rows = Array(plane)
    } else {
      rows = [Float](repeating: 0, count: inHeight * width)
      plane.withUnsafeBufferPointer { source in
        horizontal.weights.withUnsafeBufferPointer { weights in
          rows.withUnsafeMutableBufferPointer { out in
            for x in 0..<width {
              let start = horizontal.starts[x]
              let count = horizontal.counts[x]
              let window = weights.baseAddress! + x * horizontal.kernelSize
              for y in 0..<inHeight {
                let row = source.baseAddress! + y * inWidth + start
                var sum: Float = 0
                for k in 0..<count { sum += row[k] * window[k] }
                out[y * width + x] = min(max(sum, low), high)
              }
            }
          }
        }
      }
    }
    if height == inHeight { return rows }

    // Vertical pass: [inHeight, width] -> [height, width], one output row at a time.
    var out = [Float](repeating: 0, count: height * width)
    rows.withUnsafeBufferPointer { source in
      vertical.weights.withUnsafeBufferPointer { weights in
        out.withUnsafeMutableBufferPointer { target in
          for y in 0..<height {
            let start = vertical.starts[y]
            let row = target.baseAddress! + y * width
            for k in 0..<vertical.counts[y] {
              let weight = weights[y * vertical.kernelSize + k]
              let input = source.baseAddress! + (start + k) * width
              for x in 0..<width { row[x] += weight * input[x] }
            }
            if clamping { for x in 0..<width { row[x] = min(max(row[x], 0), 1) } }
          }
        }
      }
    }
    return out
  }

  /// Nearest neighbour: output pixel (x, y) takes input pixel
  /// (⌊(x + ½)·inWidth/width⌋, ⌊(y + ½)·inHeight/height⌋).
  func resizedNearest(width: Int, height: Int) -> Image {
    let scaleX = Double(self.width) / Double(width)
    let scaleY = Double(self.height) / Double(height)
    let inWidth = self.width
    let inHeight = self.height
    return remapped(width: width, height: height) { x, y in
      (
        min(Int((Double(x) + 0.5) * scaleX), inWidth - 1),
        min(Int((Double(y) + 0.5) * scaleY), inHeight - 1)
      )
    }
  }
}
