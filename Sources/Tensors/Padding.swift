// Spatial padding of `[N, C, H, W]` tensors: reflection, replication and zeros, with PyTorch's
// semantics (`ReflectionPad2d`, `ReplicationPad2d`, `ZeroPad2d`).
import Kernels

/// How padding fills the new border.
enum PaddingMode: String {
  /// Mirror the interior without repeating the edge (`d c b | a b c d | c b a`).
  case reflection
  /// Repeat the edge (`a a | a b c d | d d`).
  case replication
  /// Zeros.
  case zero

  /// For each padded position `0..<(before + extent + after)`, the source index in
  /// `0..<extent`, or −1 for a zero.
  func sourceIndices(extent: Int, before: Int, after: Int) -> [Int] {
    (-before..<(extent + after)).map { position in
      if (0..<extent).contains(position) { return position }
      switch self {
      case .reflection:
        return position < 0 ? -position : 2 * (extent - 1) - position
      case .replication:
        return min(max(position, 0), extent - 1)
      case .zero:
        return -1
      }
    }
  }
}

/// Pads `[N, C, H, W]` to `[N, C, H + top + bottom, W + left + right]`.
private func pad2d(
  _ input: Tensor, mode: PaddingMode, left: Int, right: Int, top: Int, bottom: Int
) -> Tensor {
  precondition(input.rank == 4, "\(mode) padding needs [N, C, H, W], got \(input.shape)")
  precondition(
    min(left, right, top, bottom) >= 0, "negative \(mode) padding \((left, right, top, bottom))")
  let (batch, channels, height, width) = (
    input.shape[0], input.shape[1], input.shape[2], input.shape[3]
  )
  if mode == .reflection {
    precondition(
      max(left, right) < width && max(top, bottom) < height,
      "reflection padding \((left, right, top, bottom)) must be below the size \(height)×\(width)")
  }
  if mode == .replication {
    precondition(height > 0 && width > 0, "replication padding of an empty plane")
  }
  let rowSources = mode.sourceIndices(extent: height, before: top, after: bottom)
  let columnSources = mode.sourceIndices(extent: width, before: left, after: right)
  let (outHeight, outWidth) = (rowSources.count, columnSources.count)
  let planes = batch * channels

  // Columns outside the interior, which the copies below handle one by one.
  let borderColumns = Array(0..<left) + Array((left + width)..<outWidth)
  let planesPerWorker = max(1, elementsPerWorker / max(1, outHeight * outWidth))

  // Gather: each output element reads its source element (or zero); interiors are copied.
  let output = input.withUnsafeBufferPointer { source in
    Tensor(shape: [batch, channels, outHeight, outWidth]) { target in
      let (source, target) = (source.baseAddress!, target.baseAddress!)
      ComputeThreads.parallelRanges(planes, minimumPerWorker: planesPerWorker) { range in
        for plane in range {
          let sourcePlane = source + plane * height * width
          let targetPlane = target + plane * outHeight * outWidth
          for y in 0..<outHeight {
            let targetRow = targetPlane + y * outWidth
            let sourceRow = rowSources[y]
            guard sourceRow >= 0 else {
              targetRow.initialize(repeating: 0, count: outWidth)
              continue
            }
            let sourceRowStart = sourcePlane + sourceRow * width
            (targetRow + left).update(from: sourceRowStart, count: width)
            for x in borderColumns {
              let column = columnSources[x]
              targetRow[x] = column >= 0 ? sourceRowStart[column] : 0
            }
          }
        }
      }
    }
  }

  // Scatter back: each input element collects the gradients of the outputs that read it.
  return output.recorded(from: [input]) { gradient in
    let inputGradient = gradient.withUnsafeBufferPointer { outputGradient in
      Tensor(shape: [batch, channels, height, width]) { target in
        let (source, target) = (outputGradient.baseAddress!, target.baseAddress!)
        ComputeThreads.parallelRanges(planes, minimumPerWorker: planesPerWorker) { range in
          for plane in range {
            let sourcePlane = source + plane * outHeight * outWidth
            let targetPlane = target + plane * height * width
            targetPlane.initialize(repeating: 0, count: height * width)
            for y in 0..<outHeight where rowSources[y] >= 0 {
              let targetRow = targetPlane + rowSources[y] * width
              let sourceRow = sourcePlane + y * outWidth
              let interior = sourceRow + left
              for x in 0..<width { targetRow[x] += interior[x] }
              for x in borderColumns where columnSources[x] >= 0 {
                targetRow[columnSources[x]] += sourceRow[x]
              }
            }
          }
        }
      }
    }
    return [inputGradient]
  }
}

/// Reflection padding of `[N, C, H, W]` by `padding` on every side (PyTorch's
/// `ReflectionPad2d(padding)`); each padding must be smaller than the side it extends.
public func reflectionPad2d(_ input: Tensor, padding: Int) -> Tensor {
  pad2d(input, mode: .reflection, left: padding, right: padding, top: padding, bottom: padding)
}

/// Reflection padding of `[N, C, H, W]` to `[N, C, H + top + bottom, W + left + right]`.
public func reflectionPad2d(
  _ input: Tensor, left: Int, right: Int, top: Int, bottom: Int
) -> Tensor {
  pad2d(input, mode: .reflection, left: left, right: right, top: top, bottom: bottom)
}

/// Replication (edge) padding of `[N, C, H, W]` by `padding` on every side.
public func replicationPad2d(_ input: Tensor, padding: Int) -> Tensor {
  pad2d(input, mode: .replication, left: padding, right: padding, top: padding, bottom: padding)
}

/// Replication (edge) padding of `[N, C, H, W]` to `[N, C, H + top + bottom, W + left + right]`.
public func replicationPad2d(
  _ input: Tensor, left: Int, right: Int, top: Int, bottom: Int
) -> Tensor {
  pad2d(input, mode: .replication, left: left, right: right, top: top, bottom: bottom)
}

/// Zero padding of `[N, C, H, W]` by `padding` on every side.
public func zeroPad2d(_ input: Tensor, padding: Int) -> Tensor {
  pad2d(input, mode: .zero, left: padding, right: padding, top: padding, bottom: padding)
}

/// Zero padding of `[N, C, H, W]` to `[N, C, H + top + bottom, W + left + right]`.
public func zeroPad2d(_ input: Tensor, left: Int, right: Int, top: Int, bottom: Int) -> Tensor {
  pad2d(input, mode: .zero, left: left, right: right, top: top, bottom: bottom)
}
