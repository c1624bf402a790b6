/// The layer protocol, PyTorch-style naming of parameters and buffers, state dictionaries.
import Tensors

/// A network building block: maps a tensor to a tensor and owns named parameters, buffers and
/// child layers, named as PyTorch names the same module's `state_dict` entries.
///
/// Names are dotted paths: a child's entries are prefixed by the child's name and a dot, so a
/// `Sequential` whose element 10 is a residual block with a `conv_block` Sequential gives
/// `10.conv_block.1.weight`.
public protocol Layer: AnyObject {
  /// Applies the layer (shapes are given in each layer's documentation).
  func callAsFunction(_ input: Tensor) -> Tensor

  /// The parameters this layer holds itself (not its children's), in PyTorch's order.
  var directParameters: [Parameter] { get }

  /// The buffers this layer holds itself, in PyTorch's order.
  var directBuffers: [Buffer] { get }

  /// The child layers with their names, in PyTorch's order.
  var children: [(name: String, layer: any Layer)] { get }

  /// Whether the layer behaves as in training (batch statistics, dropout) or evaluation.
  var isTraining: Bool { get set }
}

extension Layer {
  public var directParameters: [Parameter] { [] }
  public var directBuffers: [Buffer] { [] }
  public var children: [(name: String, layer: any Layer)] { [] }

  /// Every parameter of this layer and its descendants with its dotted name, in the order of
  /// PyTorch's `named_parameters()`: a layer's own first, then each child's in turn.
  public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
    var result = directParameters.map { (name: prefix + $0.name, parameter: $0) }
    for child in children {
      result += child.layer.namedParameters(prefix: prefix + child.name + ".")
    }
    return result
  }

  /// Every buffer of this layer and its descendants with its dotted name.
  public func namedBuffers(prefix: String = "") -> [(name: String, buffer: Buffer)] {
    var result = directBuffers.map { (name: prefix + $0.name, buffer: $0) }
    for child in children {
      result += child.layer.namedBuffers(prefix: prefix + child.name + ".")
    }
    return result
  }

  /// All parameters, without names.
  public var parameters: [Parameter] { namedParameters().map(\.parameter) }

  /// The number of trainable elements (PyTorch's `sum(p.numel() for p in parameters())`).
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// The entries of PyTorch's `state_dict()` in its order: for each layer its parameters, then
  /// its buffers, then its children's entries. Values are detached copies (sharing storage).
  public func stateDictionary(prefix: String = "") -> [StateEntry] {
    var result = directParameters.map {
      StateEntry(name: prefix + $0.name, value: $0.value.detached(), holdsInteger: false)
    }
    result += directBuffers.map {
      StateEntry(name: prefix + $0.name, value: $0.value, holdsInteger: $0.holdsInteger)
    }
    for child in children {
      result += child.layer.stateDictionary(prefix: prefix + child.name + ".")
    }
    return result
  }

  /// Sets every parameter and buffer from `tensors`, keyed as `stateDictionary()` names them.
  ///
  /// All keys are checked before anything is written, so a failed load leaves the layer as it
  /// was. Keys in `tensors` that name nothing here are an error unless listed in
  /// `ignoring` (for instance running statistics that old PyTorch versions saved for instance
  /// norms).
  public func loadStateDictionary(
    _ tensors: [String: Tensor], ignoring ignoredKeys: Set<String> = []
  ) throws(StateDictionaryError) {
    let parameters = namedParameters()
    let buffers = namedBuffers()
    var expected = Set<String>()
    var missing: [String] = []
    var mismatched: [StateDictionaryError.ShapeMismatch] = []
    for (name, shape) in parameters.map({ ($0.name, $0.parameter.shape) })
      + buffers.map({ ($0.name, $0.buffer.shape) })
    {
      expected.insert(name)
      guard let tensor = tensors[name] else {
        missing.append(name)
        continue
      }
      if tensor.shape != shape {
        mismatched.append(.init(key: name, expected: shape, found: tensor.shape))
      }
    }
    let unexpected = tensors.keys.filter { !expected.contains($0) && !ignoredKeys.contains($0) }
    if !missing.isEmpty || !unexpected.isEmpty || !mismatched.isEmpty {
      throw StateDictionaryError(
        missingKeys: missing, unexpectedKeys: unexpected.sorted(), shapeMismatches: mismatched)
    }

    for (name, parameter) in parameters {
      if let tensor = tensors[name] { parameter.assign(tensor) }
    }
    for (name, buffer) in buffers {
      if let tensor = tensors[name] { buffer.value = tensor.detached() }
    }
  }

  /// Switches this layer and all its descendants to training (`true`) or evaluation mode.
  public func setTraining(_ training: Bool) {
    isTraining = training
    for child in children { child.layer.setTraining(training) }
  }

  /// This layer (named `prefix` without its trailing dot, "" at the root) and every descendant
  /// with its dotted name, parents before children.
  public func namedLayers(prefix: String = "") -> [(name: String, layer: any Layer)] {
    var result: [(name: String, layer: any Layer)] = [(String(prefix.dropLast()), self)]
    for child in children {
      result += child.layer.namedLayers(prefix: prefix + child.name + ".")
    }
    return result
  }

  /// Calls `visit` on this layer and every descendant, parents before children.
  public func forEachLayer(_ visit: (any Layer) -> Void) {
    visit(self)
    for child in children { child.layer.forEachLayer(visit) }
  }

  /// Freezes (`false`) or unfreezes (`true`) every parameter of this layer and its descendants
  /// (the reference's `set_requires_grad(net, flag)`): while frozen, gradients flow through the
  /// layer to its input but none is computed for its parameters.
  public func setRequiresGradient(_ flag: Bool) {
    for parameter in parameters { parameter.requiresGradient = flag }
  }

  /// Runs `body` with every parameter of this layer and its descendants frozen, then restores
  /// each parameter's previous setting.
  public func withFrozenParameters<Result>(_ body: () throws -> Result) rethrows -> Result {
    let parameters = self.parameters
    let previous = parameters.map(\.requiresGradient)
    for parameter in parameters { parameter.requiresGradient = false }
    defer {
      for (parameter, flag) in zip(parameters, previous) { parameter.requiresGradient = flag }
    }
    return try body()
  }

  /// Clears the gradient of every parameter (PyTorch's `zero_grad(set_to_none=True)`).
  public func clearGradients() {
    for parameter in parameters { parameter.gradient = nil }
  }
}

/// One entry of a state dictionary: a dotted name and a tensor.
public struct StateEntry: Sendable {
  /// The dotted name (`model.10.conv_block.1.weight`).
  public var name: String
  /// The values.
  public var value: Tensor
  /// Whether PyTorch stores this entry as an integer (`num_batches_tracked`).
  public var holdsInteger: Bool

  public init(name: String, value: Tensor, holdsInteger: Bool = false) {
    self.name = name
    self.value = value
    self.holdsInteger = holdsInteger
  }
}

/// Why a state dictionary does not fit a layer.
public struct StateDictionaryError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A key present on both sides with different shapes.
  public struct ShapeMismatch: Sendable, Equatable {
    public var key: String
    public var expected: [Int]
    public var found: [Int]
  }

  /// Keys the layer has and the dictionary lacks.
  public var missingKeys: [String]
  /// Keys the dictionary has and the layer does not.
  public var unexpectedKeys: [String]
  /// Keys whose shapes differ.
  public var shapeMismatches: [ShapeMismatch]

  public var description: String {
    var parts: [String] = []
    if !missingKeys.isEmpty {
      parts.append("missing \(missingKeys.count) keys (\(Self.sample(missingKeys)))")
    }
    if !unexpectedKeys.isEmpty {
      parts.append("unexpected \(unexpectedKeys.count) keys (\(Self.sample(unexpectedKeys)))")
    }
    if !shapeMismatches.isEmpty {
      let shown = shapeMismatches.prefix(3).map {
        "\($0.key): expected \($0.expected), found \($0.found)"
      }
      parts.append(
        "\(shapeMismatches.count) shape mismatches (\(shown.joined(separator: "; ")))")
    }
    return parts.joined(separator: ", ")
  }

  private static func sample(_ keys: [String]) -> String {
    keys.prefix(4).joined(separator: ", ") + (keys.count > 4 ? ", …" : "")
  }
}

/// Layers applied one after the other, their entries named by position from 0 exactly as in
/// PyTorch's `nn.Sequential` (layers without parameters take a position too).
public final class Sequential: Layer {
  /// The layers in order.
  public private(set) var layers: [any Layer]

  public var isTraining = true

  /// Creates a sequence from `layers`.
  public init(_ layers: [any Layer]) {
    self.layers = layers
  }

  /// Creates a sequence from `layers`.
  public convenience init(_ layers: any Layer...) {
    self.init(layers)
  }

  /// Applies each layer in turn (each measured by the `Profiler` while it is on).
  public func callAsFunction(_ input: Tensor) -> Tensor {
    layers.reduce(input) { value, layer in LayerProfiling.apply(layer, to: value) }
  }

  public var children: [(name: String, layer: any Layer)] {
    layers.enumerated().map { (name: String($0.offset), layer: $0.element) }
  }

  /// The number of layers.
  public var count: Int { layers.count }

  /// The layer at `index`.
  public subscript(index: Int) -> any Layer { layers[index] }
}
