// Operations that rearrange elements without arithmetic: reshaping and concatenation.

extension Tensor {
  /// The same elements with another shape of the same element count (storage is shared).
  public func reshaped(to newShape: [Int]) -> Tensor {
    precondition(
      newShape.allSatisfy { $0 >= 0 } && newShape.reduce(1, *) == count,
      "cannot reshape \(shape) (\(count) elements) to \(newShape)")
    let oldShape = shape
    return Tensor(shape: newShape, storage: storage).recorded(from: [self]) { gradient in
      [gradient.reshaped(to: oldShape)]
    }
  }
}

/// Joins tensors along `axis`; all other extents must agree. Along channels of `[N, C, H, W]`
/// tensors (`axis` 1), `[N, C₁, H, W]` and `[N, C₂, H, W]` give `[N, C₁ + C₂, H, W]`.
public func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
  precondition(!tensors.isEmpty, "concatenate of no tensors")
  let first = tensors[0]
  precondition((0..<first.rank).contains(axis), "axis \(axis) outside shape \(first.shape)")
  for tensor in tensors {
    precondition(
      tensor.rank == first.rank
        && (0..<first.rank).allSatisfy { $0 == axis || tensor.shape[$0] == first.shape[$0] },
      "concatenate along \(axis): shapes \(tensors.map(\.shape)) do not agree")
  }

  // Each tensor is `outer` runs of `extent·inner` contiguous elements.
  let outer = first.shape[..<axis].reduce(1, *)
  let inner = first.shape[(axis + 1)...].reduce(1, *)
  let runs = tensors.map { $0.shape[axis] * inner }
  let totalRun = runs.reduce(0, +)
  var outputShape = first.shape
  outputShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)

  let output = Tensor(shape: outputShape) { target in
    var offset = 0
    for (tensor, run) in zip(tensors, runs) {
      tensor.withUnsafeBufferPointer { source in
        for block in 0..<outer {
          (target.baseAddress! + block * totalRun + offset).initialize(
            from: source.baseAddress! + block * run, count: run)
        }
      }
      offset += run
    }
  }

  let shapes = tensors.map(\.shape)
  return output.recorded(from: tensors) { gradient in
    gradient.withUnsafeBufferPointer { source in
      var offset = 0
      return zip(shapes, runs).map { shape, run in
        defer { offset += run }
        return Tensor(shape: shape) { target in
          for block in 0..<outer {
            (target.baseAddress! + block * run).initialize(
              from: source.baseAddress! + block * totalRun + offset, count: run)
          }
        }
      }
    }
  }
}
