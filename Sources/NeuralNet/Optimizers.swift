/// Optimisers with the exact update rules of `torch.optim.Adam` and `torch.optim.SGD`.
import Foundation
import Kernels
import Tensors

/// Something that updates parameters from their gradients.
public protocol Optimizer: AnyObject {
  /// The step size used by the next `step()`; LR schedules set it between epochs.
  var learningRate: Double { get set }

  /// Updates every parameter that has a gradient (parameters without one are skipped, as
  /// PyTorch does).
  func step()

  /// Clears the gradients of all parameters (PyTorch's `zero_grad()`, setting them to none).
  func clearGradients()
}

/// The named parameters an optimiser updates. Names must be unique; they key the saved state.
public typealias NamedParameters = [(name: String, parameter: Parameter)]

/// Adam (`torch.optim.Adam`, no AMSGrad): for each parameter with gradient `g` at its step `t`,
///
///     g ← g + weightDecay·θ                       (when weightDecay ≠ 0)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// with the bias corrections computed in double precision, as PyTorch does in Python.
public final class Adam: Optimizer {
  public var learningRate: Double
  public let beta1: Double
  public let beta2: Double
  public let epsilon: Double
  public let weightDecay: Double
  public let parameters: NamedParameters

  /// Per parameter, in `parameters` order: steps taken, first and second moments.
  private var steps: [Int]
  private var firstMoments: [[Float]]
  private var secondMoments: [[Float]]

  /// Creates the optimiser; the defaults are PyTorch's (the CycleGAN reference uses
  /// `learningRate: 2e-4, beta1: 0.5`).
  public init(
    parameters: NamedParameters, learningRate: Double = 1e-3, beta1: Double = 0.9,
    beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0
  ) {
    precondition(
      Set(parameters.map(\.name)).count == parameters.count,
      "Adam: parameter names must be unique")
    precondition(
      (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon >= 0 && learningRate >= 0,
      "Adam: invalid lr \(learningRate), betas (\(beta1), \(beta2)) or eps \(epsilon)")
    self.parameters = parameters
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    steps = Array(repeating: 0, count: parameters.count)
    firstMoments = parameters.map { [Float](repeating: 0, count: $0.parameter.count) }
    secondMoments = parameters.map { [Float](repeating: 0, count: $0.parameter.count) }
  }

  public func step() {
    Profiler.begin(LayerProfiling.optimizerLabel)
    defer { Profiler.end() }
    let oneMinusBeta1 = Float(1 - beta1)
    let beta2Float = Float(beta2)
    let oneMinusBeta2 = Float(1 - beta2)
    let decay = Float(weightDecay)
    let epsilonFloat = Float(epsilon)
    for index in parameters.indices {
      let parameter = parameters[index].parameter
      guard let gradient = parameter.gradient else { continue }
      precondition(
        gradient.shape == parameter.shape,
        "Adam: gradient shape \(gradient.shape) of \(parameters[index].name) differs from "
          + "\(parameter.shape)")
      steps[index] += 1
      let step = Double(steps[index])
      let stepSize = Float(learningRate / (1 - pow(beta1, step)))
      let correction2Root = Float((1 - pow(beta2, step)).squareRoot())

      let constants = AdamConstants(
        oneMinusBeta1: oneMinusBeta1, beta2: beta2Float, oneMinusBeta2: oneMinusBeta2,
        decay: decay, epsilon: epsilonFloat, stepSize: stepSize,
        correction2Root: correction2Root)
      gradient.withUnsafeBufferPointer { gradients in
        firstMoments[index].withUnsafeMutableBufferPointer { m in
          secondMoments[index].withUnsafeMutableBufferPointer { v in
            parameter.updateInPlace { values in
              let pointers = AdamPointers(
                values: values.baseAddress!, gradients: gradients.baseAddress!,
                m: m.baseAddress!, v: v.baseAddress!)
              ComputeThreads.parallelRanges(values.count, minimumPerWorker: 1 << 15) { range in
                constants.update(pointers, range)
              }
            }
          }
        }
      }
    }
  }

  public func clearGradients() {
    for (_, parameter) in parameters { parameter.gradient = nil }
  }

  /// The moments and step counts, keyed by parameter name, for a training checkpoint.
  public var state: AdamState {
    get {
      var result = AdamState()
      for (index, entry) in parameters.enumerated() {
        result.steps[entry.name] = steps[index]
        result.firstMoments[entry.name] = Tensor(
          shape: entry.parameter.shape, scalars: firstMoments[index])
        result.secondMoments[entry.name] = Tensor(
          shape: entry.parameter.shape, scalars: secondMoments[index])
      }
      return result
    }
  }

  /// Restores moments and step counts saved from `state`; every parameter must be present with
  /// its shape, else nothing changes and the error lists what is wrong.
  public func restore(_ saved: AdamState) throws(OptimizerStateError) {
    var problems: [String] = []
    for (name, parameter) in parameters {
      guard saved.steps[name] != nil, let m = saved.firstMoments[name],
        let v = saved.secondMoments[name]
      else {
        problems.append("\(name): missing")
        continue
      }
      if m.shape != parameter.shape || v.shape != parameter.shape {
        problems.append("\(name): moments \(m.shape)/\(v.shape), parameter \(parameter.shape)")
      }
    }
    if !problems.isEmpty { throw OptimizerStateError(problems: problems) }
    for (index, entry) in parameters.enumerated() {
      steps[index] = saved.steps[entry.name] ?? 0
      firstMoments[index] = saved.firstMoments[entry.name]?.scalars ?? []
      secondMoments[index] = saved.secondMoments[entry.name]?.scalars ?? []
    }
  }
}

/// The four arrays of one parameter's Adam update (values, gradients, first and second moments).
private struct AdamPointers {
  let values: UnsafeMutablePointer<Float>
  let gradients: UnsafePointer<Float>
  let m: UnsafeMutablePointer<Float>
  let v: UnsafeMutablePointer<Float>
}

/// The Float constants of one Adam step of one parameter.
private struct AdamConstants {
  let oneMinusBeta1: Float
  let beta2: Float
  let oneMinusBeta2: Float
  let decay: Float
  let epsilon: Float
  let stepSize: Float
  let correction2Root: Float

  /// The update of the elements `range`, eight at a time in SIMD lanes and then one by one,
  /// with the same operations in the same order either way (so the lanes change no result).
  func update(_ p: AdamPointers, _ range: Range<Int>) {
    typealias Lanes = SIMD8<Float>
    var element = range.lowerBound
    while element + 8 <= range.upperBound {
      let valuesAddress = UnsafeMutableRawPointer(p.values + element)
      let mAddress = UnsafeMutableRawPointer(p.m + element)
      let vAddress = UnsafeMutableRawPointer(p.v + element)
      var g = UnsafeRawPointer(p.gradients + element).loadUnaligned(as: Lanes.self)
      var values = valuesAddress.loadUnaligned(as: Lanes.self)
      var m = mAddress.loadUnaligned(as: Lanes.self)
      var v = vAddress.loadUnaligned(as: Lanes.self)
      if decay != 0 { g += decay * values }
      m += oneMinusBeta1 * (g - m)
      v = v * beta2 + oneMinusBeta2 * g * g
      let denominator = v.squareRoot() / correction2Root + epsilon
      values -= stepSize * (m / denominator)
      valuesAddress.storeBytes(of: values, as: Lanes.self)
      mAddress.storeBytes(of: m, as: Lanes.self)
      vAddress.storeBytes(of: v, as: Lanes.self)
      element += 8
    }
    while element < range.upperBound {
      var g = p.gradients[element]
      if decay != 0 { g += decay * p.values[element] }
      p.m[element] += oneMinusBeta1 * (g - p.m[element])
      p.v[element] = p.v[element] * beta2 + oneMinusBeta2 * g * g
      let denominator = p.v[element].squareRoot() / correction2Root + epsilon
      p.values[element] -= stepSize * (p.m[element] / denominator)
      element += 1
    }
  }
}

/// The state of `Adam` per parameter name (PyTorch's `state[p]`: `step`, `exp_avg`,
/// `exp_avg_sq`).
public struct AdamState: Sendable {
  public var steps: [String: Int] = [:]
  public var firstMoments: [String: Tensor] = [:]
  public var secondMoments: [String: Tensor] = [:]
  public init() {}
}

/// Saved optimiser state that does not fit the optimiser's parameters.
public struct OptimizerStateError: Error, Sendable, CustomStringConvertible {
  /// One line per parameter that is missing or mis-shaped.
  public var problems: [String]
  public var description: String {
    "optimiser state does not fit (\(problems.count) parameters): "
      + problems.prefix(4).joined(separator: "; ") + (problems.count > 4 ? "; …" : "")
  }
}

/// Stochastic gradient descent (`torch.optim.SGD`): with gradient `g` and buffer `b`,
///
///     g ← g + weightDecay·θ
///     b ← g on the first step, else momentum·b + (1 − dampening)·g     (when momentum ≠ 0)
///     g ← g + momentum·b with Nesterov, else b
///     θ ← θ − lr·g
public final class SGD: Optimizer {
  public var learningRate: Double
  public let momentum: Double
  public let dampening: Double
  public let weightDecay: Double
  public let nesterov: Bool
  public let parameters: NamedParameters

  /// Momentum buffers, `nil` until a parameter's first step.
  private var buffers: [[Float]?]

  public init(
    parameters: NamedParameters, learningRate: Double, momentum: Double = 0,
    dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false
  ) {
    precondition(
      !nesterov || (momentum > 0 && dampening == 0),
      "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
    self.parameters = parameters
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    buffers = Array(repeating: nil, count: parameters.count)
  }

  public func step() {
    Profiler.begin(LayerProfiling.optimizerLabel)
    defer { Profiler.end() }
    let rate = Float(learningRate)
    let momentumFloat = Float(momentum)
    let keep = Float(1 - dampening)
    let decay = Float(weightDecay)
    for index in parameters.indices {
      let parameter = parameters[index].parameter
      guard let gradient = parameter.gradient else { continue }
      var direction = gradient.scalars
      parameter.updateInPlace { values in
        if decay != 0 {
          for element in 0..<values.count { direction[element] += decay * values[element] }
        }
        if momentum != 0 {
          if var buffer = buffers[index] {
            for element in 0..<values.count {
              buffer[element] = momentumFloat * buffer[element] + keep * direction[element]
            }
            buffers[index] = buffer
          } else {
            buffers[index] = direction
          }
          let buffer = buffers[index] ?? direction
          for element in 0..<values.count {
            direction[element] =
              nesterov ? direction[element] + momentumFloat * buffer[element] : buffer[element]
          }
        }
        for element in 0..<values.count { values[element] -= rate * direction[element] }
      }
    }
  }

  public func clearGradients() {
    for (_, parameter) in parameters { parameter.gradient = nil }
  }
}
