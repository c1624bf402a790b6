import Foundation
import Kernels

// Elementwise operations of any shape: arithmetic on same-shaped tensors, scaling by a Float,
// activations and dropout, each with its gradient.
//
// They take their inputs as `consuming`: when the caller hands over the last reference to an
// input (a temporary such as `relu(instanceNorm2d(x))`, or a variable's last use), the result
// is written into the input's storage instead of a new buffer. An input that anything else
// still references (another variable, a saved value of the gradient graph) is never written.

/// A function of one element, as a type, so that loops over it are specialised and inlined.
protocol ElementFunction {
  func callAsFunction(_ x: Float) -> Float
}

/// A function of two matching elements, as a type, so that loops over it are specialised.
protocol ElementPairFunction {
  func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// Wraps a closure for code that is not hot (the closure is called per element).
struct ClosureFunction: ElementFunction, ElementPairFunction {
  let unary: ((Float) -> Float)?
  let binary: ((Float, Float) -> Float)?
  func callAsFunction(_ x: Float) -> Float { unary?(x) ?? x }
  func callAsFunction(_ a: Float, _ b: Float) -> Float { binary?(a, b) ?? a }
}

struct Sum: ElementPairFunction {
  func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b }
}
struct Difference: ElementPairFunction {
  func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b }
}
struct Product: ElementPairFunction {
  func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
}
struct Scaling: ElementFunction {
  let factor: Float
  func callAsFunction(_ x: Float) -> Float { x * factor }
}
struct Division: ElementFunction {
  let divisor: Float
  func callAsFunction(_ x: Float) -> Float { x / divisor }
}
struct Offset: ElementFunction {
  let offset: Float
  func callAsFunction(_ x: Float) -> Float { x + offset }
}
struct LeakyRectifier: ElementFunction {
  /// 0 for ReLU.
  let slope: Float
  func callAsFunction(_ x: Float) -> Float { x > 0 ? x : slope * x }
}
/// `g` where the output (or input) `y` is positive, else `slope·g`.
struct LeakyRectifierGradient: ElementPairFunction {
  let slope: Float
  func callAsFunction(_ g: Float, _ y: Float) -> Float { y > 0 ? g : slope * g }
}
struct HyperbolicTangent: ElementFunction {
  func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) }
}
/// `g·(1 − y²)` from the output `y`.
struct HyperbolicTangentGradient: ElementPairFunction {
  func callAsFunction(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) }
}
struct Logistic: ElementFunction {
  func callAsFunction(_ x: Float) -> Float { logistic(x) }
}
/// `g·y·(1 − y)` from the output `y`.
struct LogisticGradient: ElementPairFunction {
  func callAsFunction(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) }
}

extension Tensor {
  /// Storage for an elementwise result of this value: its own storage when nothing else
  /// references it, else a new buffer of the same size.
  mutating func storageForResult() -> TensorStorage {
    isKnownUniquelyReferenced(&storage) ? storage : TensorStorage(count: count)
  }

  /// `transform` applied to every element, as a new tensor outside any graph.
  func mapped(_ transform: @escaping (Float) -> Float) -> Tensor {
    mapElements(detached(), ClosureFunction(unary: transform, binary: nil))
  }

  /// `function` applied to every element, as a new tensor outside any graph.
  func mapped<Function: ElementFunction>(_ function: Function) -> Tensor {
    mapElements(detached(), function)
  }

  /// `combine` applied to matching elements of two same-shaped tensors, outside any graph.
  static func zipped(
    _ first: Tensor, _ second: Tensor, _ operation: String,
    _ combine: @escaping (Float, Float) -> Float
  ) -> Tensor {
    combineElements(
      first.detached(), second.detached(), operation, ClosureFunction(unary: nil, binary: combine))
  }

  /// `function` applied to matching elements of two same-shaped tensors, outside any graph.
  static func zipped<Function: ElementPairFunction>(
    _ first: Tensor, _ second: Tensor, _ operation: String, _ function: Function
  ) -> Tensor {
    combineElements(first.detached(), second.detached(), operation, function)
  }
}

/// `function` of every element of `input`, in `input`'s storage when it is not shared; no
/// graph node.
func mapElements<Function: ElementFunction>(
  _ input: consuming Tensor, _ function: Function
) -> Tensor {
  input.node = nil
  let target = input.storageForResult()
  withExtendedLifetime(input) {
    let source = input.storage.base
    let destination = target.base
    ComputeThreads.parallelRanges(input.count, minimumPerWorker: elementsPerWorker) { range in
      for index in range { destination[index] = function(source[index]) }
    }
  }
  return Tensor(shape: input.shape, storage: target)
}

/// `function` of matching elements of two same-shaped tensors, in the storage of either when
/// it is not shared; no graph node.
func combineElements<Function: ElementPairFunction>(
  _ first: consuming Tensor, _ second: consuming Tensor, _ operation: String,
  _ function: Function
) -> Tensor {
  precondition(
    first.shape == second.shape, "\(operation): shapes \(first.shape) and \(second.shape) differ")
  first.node = nil
  second.node = nil
  let target: TensorStorage
  if isKnownUniquelyReferenced(&first.storage) {
    target = first.storage
  } else if isKnownUniquelyReferenced(&second.storage) {
    target = second.storage
  } else {
    target = TensorStorage(count: first.count)
  }
  withExtendedLifetime((first, second)) {
    let (a, b) = (first.storage.base, second.storage.base)
    let destination = target.base
    ComputeThreads.parallelRanges(first.count, minimumPerWorker: elementsPerWorker) { range in
      for index in range { destination[index] = function(a[index], b[index]) }
    }
  }
  return Tensor(shape: first.shape, storage: target)
}

/// Elementwise sum of two tensors of the same shape.
public func + (lhs: consuming Tensor, rhs: consuming Tensor) -> Tensor {
  let nodes = [lhs.node, rhs.node]
  return combineElements(lhs, rhs, "+", Sum()).recorded(fromNodes: nodes) { gradient in
    [gradient, gradient]
  }
}

/// Elementwise difference of two tensors of the same shape.
public func - (lhs: consuming Tensor, rhs: consuming Tensor) -> Tensor {
  let nodes = [lhs.node, rhs.node]
  let rhsNeedsGradient = rhs.node != nil
  return combineElements(lhs, rhs, "-", Difference()).recorded(fromNodes: nodes) { gradient in
    [gradient, rhsNeedsGradient ? gradient.mapped(Scaling(factor: -1)) : nil]
  }
}

/// Elementwise product of two tensors of the same shape.
public func * (lhs: consuming Tensor, rhs: consuming Tensor) -> Tensor {
  let nodes = [lhs.node, rhs.node]
  guard Tensor.willRecord(lhs, rhs) else { return combineElements(lhs, rhs, "*", Product()) }
  let (savedLHS, savedRHS) = (lhs.detached(), rhs.detached())
  let (lhsNeedsGradient, rhsNeedsGradient) = (lhs.node != nil, rhs.node != nil)
  return combineElements(lhs, rhs, "*", Product()).recorded(fromNodes: nodes) { gradient in
    [
      lhsNeedsGradient ? Tensor.zipped(gradient, savedRHS, "*", Product()) : nil,
      rhsNeedsGradient ? Tensor.zipped(gradient, savedLHS, "*", Product()) : nil,
    ]
  }
}

/// Every element multiplied by `factor`.
public func * (tensor: consuming Tensor, factor: Float) -> Tensor {
  let node = tensor.node
  return mapElements(tensor, Scaling(factor: factor)).recorded(fromNodes: [node]) { gradient in
    [mapElements(consume gradient, Scaling(factor: factor))]
  }
}

/// Every element multiplied by `factor`.
public func * (factor: Float, tensor: consuming Tensor) -> Tensor { tensor * factor }

/// Every element divided by `divisor`.
public func / (tensor: consuming Tensor, divisor: Float) -> Tensor {
  let node = tensor.node
  return mapElements(tensor, Division(divisor: divisor)).recorded(fromNodes: [node]) { gradient in
    [mapElements(consume gradient, Division(divisor: divisor))]
  }
}

/// Every element plus `offset`.
public func + (tensor: consuming Tensor, offset: Float) -> Tensor {
  let node = tensor.node
  return mapElements(tensor, Offset(offset: offset)).recorded(fromNodes: [node]) { gradient in
    [gradient]
  }
}

/// Every element negated.
public prefix func - (tensor: consuming Tensor) -> Tensor { tensor * -1 }

/// Applies an activation whose derivative can be read from its output (`derivative(g, y)`
/// with `y` the output), saving only the output.
private func activation<Function: ElementFunction, Derivative: ElementPairFunction>(
  _ input: consuming Tensor, _ function: Function, derivative: Derivative
) -> Tensor {
  let node = input.node
  let output = mapElements(input, function)
  guard node != nil, isRecordingGradients else { return output }
  let savedOutput = output.detached()
  return output.recorded(fromNodes: [node]) { gradient in
    [combineElements(consume gradient, savedOutput, "activation", derivative)]
  }
}

/// `max(x, 0)` elementwise.
public func relu(_ input: consuming Tensor) -> Tensor {
  activation(
    input, LeakyRectifier(slope: 0), derivative: LeakyRectifierGradient(slope: 0))
}

/// `x` where `x > 0`, else `slope · x`, elementwise (PyTorch's `leaky_relu`).
public func leakyRelu(_ input: consuming Tensor, slope: Float = 0.01) -> Tensor {
  if slope >= 0 {
    // The output is positive exactly where the input is, so the output tells the slope.
    return activation(
      input, LeakyRectifier(slope: slope), derivative: LeakyRectifierGradient(slope: slope))
  }
  let savedInput = input.detached()
  return input.mapped(LeakyRectifier(slope: slope)).recorded(from: [input]) { gradient in
    [Tensor.zipped(gradient, savedInput, "leakyRelu", LeakyRectifierGradient(slope: slope))]
  }
}

/// Hyperbolic tangent elementwise.
public func tanh(_ input: consuming Tensor) -> Tensor {
  activation(input, HyperbolicTangent(), derivative: HyperbolicTangentGradient())
}

/// The logistic function `1 / (1 + e^(−x))` elementwise.
public func sigmoid(_ input: consuming Tensor) -> Tensor {
  activation(input, Logistic(), derivative: LogisticGradient())
}

/// `1 / (1 + e^(−x))` without overflow for large `|x|`.
@inline(__always)
func logistic(_ x: Float) -> Float {
  if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
  let e = Foundation.exp(x)
  return e / (1 + e)
}

/// Zeroes each element with probability `probability` and scales the others by
/// `1 / (1 − probability)`, drawing one uniform number per element from `generator` in
/// row-major order (training-mode dropout; call it only while training).
public func dropout(
  _ input: consuming Tensor, probability: Float, using generator: inout RandomGenerator
) -> Tensor {
  precondition((0...1).contains(probability), "dropout probability \(probability) not in [0, 1]")
  if probability == 0 { return input }
  let keptScale: Float = probability < 1 ? 1 / (1 - probability) : 0
  let mask = Tensor(shape: input.shape) { mask in
    for index in 0..<mask.count {
      mask[index] = generator.nextUniformFloat() < probability ? 0 : keptScale
    }
  }
  let node = input.node
  return combineElements(input, mask, "dropout", Product()).recorded(fromNodes: [node]) {
    gradient in
    [combineElements(consume gradient, mask, "dropout", Product())]
  }
}
