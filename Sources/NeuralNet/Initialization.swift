/// Weight initialisation as the CycleGAN reference's `init_weights`, seeded.
import Tensors

/// The initialisation schemes of the CycleGAN reference (`--init_type`), plus PyTorch's own
/// default for layers that are built and used directly.
public enum InitializationScheme: String, Sendable, Codable, CaseIterable {
  /// Weights from `N(0, gain)`.
  case normal
  /// Xavier (Glorot) normal: `N(0, gain·√(2 / (fanIn + fanOut)))`.
  case xavier
  /// Kaiming (He) normal for ReLU, fan-in mode: `N(0, √(2 / fanIn))`; the gain is not used.
  case kaiming
  /// A (semi-)orthogonal matrix of rows `shape[0]` and columns the rest, times `gain`.
  case orthogonal
  /// PyTorch's construction default: weights and biases uniform in `±1/√fanIn`.
  case pytorchDefault = "pytorch_default"
}

/// The fans PyTorch computes for a weight: `fanIn = shape[1]·receptive field`,
/// `fanOut = shape[0]·receptive field` (so a transposed convolution's weight
/// `[Cin, Cout, k, k]` has fan-in `Cout·k·k`, as in PyTorch).
public func fans(ofWeightShape shape: [Int]) -> (fanIn: Int, fanOut: Int) {
  precondition(shape.count >= 2, "fans need a weight of rank 2 or more, got shape \(shape)")
  let receptiveField = shape.dropFirst(2).reduce(1, *)
  return (shape[1] * receptiveField, shape[0] * receptiveField)
}

/// How the weights of a network are drawn (the reference's `init_type` and `init_gain`).
///
/// Applied to a layer tree as `init_weights` does: every convolution (plain or transposed) gets
/// its weight from the scheme and a zero bias; every batch norm gets its weight from
/// `N(1, gain)` and a zero bias; other layers (instance norms included) are left alone.
public struct Initialization: Sendable, Codable, Equatable {
  public var scheme: InitializationScheme
  /// The reference's `init_gain` (default 0.02).
  public var gain: Float

  public init(scheme: InitializationScheme = .normal, gain: Float = 0.02) {
    self.scheme = scheme
    self.gain = gain
  }

  /// Re-initialises every parameter of `layer` and its descendants, drawing from `generator`
  /// in the order of `forEachLayer` (parents before children, each weight before its bias).
  public func apply(to layer: any Layer, using generator: inout RandomGenerator) {
    var visited: [any Layer] = []
    layer.forEachLayer { visited.append($0) }
    for current in visited {
      if let convolution = current as? Conv2d {
        initializeWeight(convolution.weight, bias: convolution.bias, using: &generator)
      } else if let convolution = current as? ConvTranspose2d {
        initializeWeight(convolution.weight, bias: convolution.bias, using: &generator)
      } else if let norm = current as? BatchNorm2d {
        norm.weight.assign(
          Tensor.randomNormal(
            shape: norm.weight.shape, mean: 1, standardDeviation: gain, using: &generator))
        norm.bias.assign(Tensor(shape: norm.bias.shape))
      }
    }
  }

  /// Draws one convolution weight by the scheme and sets its bias (zero, or uniform for the
  /// PyTorch default).
  func initializeWeight(
    _ weight: Parameter, bias: Parameter?, using generator: inout RandomGenerator
  ) {
    let (fanIn, fanOut) = fans(ofWeightShape: weight.shape)
    switch scheme {
    case .normal:
      weight.assign(
        Tensor.randomNormal(shape: weight.shape, standardDeviation: gain, using: &generator))
    case .xavier:
      let deviation = gain * (2 / Float(fanIn + fanOut)).squareRoot()
      weight.assign(
        Tensor.randomNormal(shape: weight.shape, standardDeviation: deviation, using: &generator))
    case .kaiming:
      let deviation = (2 / Float(fanIn)).squareRoot()
      weight.assign(
        Tensor.randomNormal(shape: weight.shape, standardDeviation: deviation, using: &generator))
    case .orthogonal:
      weight.assign(orthogonalTensor(shape: weight.shape, gain: gain, using: &generator))
    case .pytorchDefault:
      let bound = 1 / Float(fanIn).squareRoot()
      weight.assign(
        Tensor.randomUniform(
          shape: weight.shape, lowerBound: -bound, upperBound: bound, using: &generator))
      if let bias {
        bias.assign(
          Tensor.randomUniform(
            shape: bias.shape, lowerBound: -bound, upperBound: bound, using: &generator))
      }
      return
    }
    if let bias { bias.assign(Tensor(shape: bias.shape)) }
  }
}

/// A tensor whose `shape[0]` rows (each the flattened rest) are orthonormal when there are no
/// more rows than columns, and whose columns are orthonormal otherwise, times `gain`: the QR
/// factor of a normal matrix with the signs of R's diagonal folded in, as PyTorch's
/// `orthogonal_` (different random numbers, same distribution).
public func orthogonalTensor(
  shape: [Int], gain: Float, using generator: inout RandomGenerator
) -> Tensor {
  precondition(shape.count >= 2, "orthogonal initialisation needs rank ≥ 2, got \(shape)")
  let rows = shape[0]
  let columns = shape.dropFirst().reduce(1, *)

  // A tall matrix: `tallRows ≥ tallColumns`, stored column by column.
  let tallRows = max(rows, columns)
  let tallColumns = min(rows, columns)
  var basis = (0..<tallColumns).map { _ in
    (0..<tallRows).map { _ in generator.nextNormal() }
  }

  // Gram–Schmidt twice over (for accuracy) gives Q with R's diagonal positive, which equals
  // the Householder Q with the sign correction.
  for column in 0..<tallColumns {
    for _ in 0..<2 {
      for earlier in 0..<column {
        var dot = 0.0
        for row in 0..<tallRows { dot += basis[earlier][row] * basis[column][row] }
        for row in 0..<tallRows { basis[column][row] -= dot * basis[earlier][row] }
      }
    }
    var norm = 0.0
    for row in 0..<tallRows { norm += basis[column][row] * basis[column][row] }
    norm = norm.squareRoot()
    precondition(norm > 0, "degenerate random matrix in orthogonal initialisation")
    for row in 0..<tallRows { basis[column][row] /= norm }
  }

  // Row-major [rows, columns]: the tall matrix itself when rows ≥ columns, else its transpose.
  var values = [Float](repeating: 0, count: rows * columns)
  for row in 0..<rows {
    for column in 0..<columns {
      let value = rows >= columns ? basis[column][row] : basis[row][column]
      values[row * columns + column] = gain * Float(value)
    }
  }
  return Tensor(shape: shape, scalars: values)
}
