/// Parameterless layers: activations, dropout and identity. Shapes are kept: `[N, C, H, W]`
/// (or any shape) in, the same shape out.
import Tensors

/// `max(x, 0)` (PyTorch's `nn.ReLU`).
public final class ReLU: Layer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ input: Tensor) -> Tensor { relu(input) }
}

/// `x` where positive, `slope·x` elsewhere (PyTorch's `nn.LeakyReLU`, default slope 0.01).
public final class LeakyReLU: Layer {
  public let slope: Float
  public var isTraining = true
  public init(slope: Float = 0.01) { self.slope = slope }
  public func callAsFunction(_ input: Tensor) -> Tensor { leakyRelu(input, slope: slope) }
}

/// The hyperbolic tangent (PyTorch's `nn.Tanh`).
public final class Tanh: Layer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ input: Tensor) -> Tensor { tanh(input) }
}

/// The logistic function (PyTorch's `nn.Sigmoid`).
public final class Sigmoid: Layer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ input: Tensor) -> Tensor { sigmoid(input) }
}

/// The identity (PyTorch's `nn.Identity`; the reference's "no norm" placeholder).
public final class Identity: Layer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ input: Tensor) -> Tensor { input }
}

/// Dropout (PyTorch's `nn.Dropout`): in training, zeroes each element with probability
/// `probability` and scales the others by `1 / (1 − probability)`; in evaluation, the identity.
///
/// The layer draws from its own seeded `generator`, so a run is reproducible; the generator is
/// public so that a training checkpoint can save and restore it.
public final class Dropout: Layer {
  public let probability: Float
  public var generator: RandomGenerator
  public var isTraining = true

  public init(probability: Float = 0.5, seed: UInt64) {
    precondition((0...1).contains(probability), "dropout probability \(probability) not in [0, 1]")
    self.probability = probability
    generator = RandomGenerator(seed: seed)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    guard isTraining else { return input }
    return dropout(input, probability: probability, using: &generator)
  }
}
