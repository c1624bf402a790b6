// Upsampling of `[N, C, H, W]` tensors by an integer factor: nearest neighbour and bilinear
// (PyTorch's `Upsample(scale_factor:, mode: "nearest" | "bilinear", align_corners: False)`).
import Kernels

/// The batch, channels, height and width of a `[N, C, H, W]` tensor.
private func imageDimensions(_ tensor: Tensor, _ name: String) -> (Int, Int, Int, Int) {
  precondition(tensor.rank == 4, "\(name) needs [N, C, H, W], got \(tensor.shape)")
  return (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
}

/// Nearest-neighbour upsampling `[N, C, H, W] → [N, C, H·scale, W·scale]`: each element is
/// repeated over a `scale × scale` block.
public func upsampleNearest2d(_ input: Tensor, scale: Int) -> Tensor {
  precondition(scale >= 1, "upsampleNearest2d scale \(scale) must be at least 1")
  let (batch, channels, height, width) = imageDimensions(input, "upsampleNearest2d")
  let (outHeight, outWidth) = (height * scale, width * scale)
  let planes = batch * channels

  let planesPerWorker = max(1, elementsPerWorker / max(1, outHeight * outWidth))

  // Each input row becomes one widened row, copied to the `scale` output rows below it.
  let output = input.withUnsafeBufferPointer { source in
    Tensor(shape: [batch, channels, outHeight, outWidth]) { target in
      let (source, target) = (source.baseAddress!, target.baseAddress!)
      ComputeThreads.parallelRanges(planes, minimumPerWorker: planesPerWorker) { range in
        for plane in range {
          for y in 0..<height {
            let sourceRow = source + (plane * height + y) * width
            let firstRow = target + (plane * outHeight + y * scale) * outWidth
            for x in 0..<width {
              let value = sourceRow[x]
              for offset in 0..<scale { firstRow[x * scale + offset] = value }
            }
            for copy in 1..<scale {
              (firstRow + copy * outWidth).update(from: firstRow, count: outWidth)
            }
          }
        }
      }
    }
  }

  return output.recorded(from: [input]) { gradient in
    let inputGradient = gradient.withUnsafeBufferPointer { outputGradient in
      Tensor(shape: [batch, channels, height, width]) { target in
        let (source, target) = (outputGradient.baseAddress!, target.baseAddress!)
        ComputeThreads.parallelRanges(planes, minimumPerWorker: planesPerWorker) { range in
          for plane in range {
            for y in 0..<height {
              let targetRow = target + (plane * height + y) * width
              for x in 0..<width {
                var total: Float = 0
                for row in 0..<scale {
                  let sourceRow = source + (plane * outHeight + y * scale + row) * outWidth
                  for column in 0..<scale { total += sourceRow[x * scale + column] }
                }
                targetRow[x] = total
              }
            }
          }
        }
      }
    }
    return [inputGradient]
  }
}

/// For each output position of a bilinear upsampling along one axis (align_corners false): the
/// two source indices and the weight of the second.
private func bilinearTaps(extent: Int, scale: Int) -> [(first: Int, second: Int, weight: Float)] {
  (0..<(extent * scale)).map { position in
    let source = max((Float(position) + 0.5) / Float(scale) - 0.5, 0)
    let first = min(Int(source), extent - 1)
    let second = min(first + 1, extent - 1)
    return (first, second, source - Float(first))
  }
}

/// Bilinear upsampling `[N, C, H, W] → [N, C, H·scale, W·scale]` with half-pixel centres
/// (`align_corners=False`), edges clamped.
public func upsampleBilinear2d(_ input: Tensor, scale: Int) -> Tensor {
  precondition(scale >= 1, "upsampleBilinear2d scale \(scale) must be at least 1")
  let (batch, channels, height, width) = imageDimensions(input, "upsampleBilinear2d")
  precondition(height > 0 && width > 0, "upsampleBilinear2d of an empty plane \(input.shape)")
  let (outHeight, outWidth) = (height * scale, width * scale)
  let planes = batch * channels
  let rows = bilinearTaps(extent: height, scale: scale)
  let columns = bilinearTaps(extent: width, scale: scale)

  let planesPerWorker = max(1, elementsPerWorker / max(1, outHeight * outWidth))

  let output = input.withUnsafeBufferPointer { source in
    Tensor(shape: [batch, channels, outHeight, outWidth]) { target in
      let (source, target) = (source.baseAddress!, target.baseAddress!)
      columns.withUnsafeBufferPointer { columns in
        ComputeThreads.parallelRanges(planes, minimumPerWorker: planesPerWorker) { range in
          for plane in range {
            let sourcePlane = source + plane * height * width
            let targetPlane = target + plane * outHeight * outWidth
            for y in 0..<outHeight {
              let row = rows[y]
              let upper = sourcePlane + row.first * width
              let lower = sourcePlane + row.second * width
              let targetRow = targetPlane + y * outWidth
              for x in 0..<outWidth {
                let column = columns[x]
                let top =
                  (1 - column.weight) * upper[column.first] + column.weight * upper[column.second]
                let bottom =
                  (1 - column.weight) * lower[column.first] + column.weight * lower[column.second]
                targetRow[x] = (1 - row.weight) * top + row.weight * bottom
              }
            }
          }
        }
      }
    }
  }

  return output.recorded(from: [input]) { gradient in
    let inputGradient = gradient.withUnsafeBufferPointer { outputGradient in
      Tensor(shape: [batch, channels, height, width]) { target in
        let (source, target) = (outputGradient.baseAddress!, target.baseAddress!)
        columns.withUnsafeBufferPointer { columns in
          ComputeThreads.parallelRanges(planes, minimumPerWorker: planesPerWorker) { range in
            for plane in range {
              let sourcePlane = source + plane * outHeight * outWidth
              let targetPlane = target + plane * height * width
              targetPlane.initialize(repeating: 0, count: height * width)
              for y in 0..<outHeight {
                let row = rows[y]
                let upper = targetPlane + row.first * width
                let lower = targetPlane + row.second * width
                let sourceRow = sourcePlane + y * outWidth
                for x in 0..<outWidth {
                  let column = columns[x]
                  let value = sourceRow[x]
                  let top = (1 - row.weight) * value
                  let bottom = row.weight * value
                  upper[column.first] += (1 - column.weight) * top
                  upper[column.second] += column.weight * top
                  lower[column.first] += (1 - column.weight) * bottom
                  lower[column.second] += column.weight * bottom
                }
              }
            }
          }
        }
      }
    }
    return [inputGradient]
  }
}
