/// Reverse-mode automatic differentiation over whole-tensor operations, in the manner of
/// PyTorch's autograd.
///
/// - A tensor created with `requiresGradient: true` is a *leaf*. Copies of it share one leaf, so
///   its `gradient` can be read from any copy (a `Parameter` object holding it, for instance).
/// - An operation on tensors of which at least one carries a graph node records a new node with
///   the operation's backward function and the values it saved.
/// - `backward()` on a scalar walks the graph once in reverse topological order and *adds* to
///   every reached leaf's `gradient` (gradients accumulate across uses and across calls, until
///   the caller clears them with `gradient = nil`).
/// - `withoutGradients { ... }` records nothing, so each intermediate tensor is freed as soon as
///   the last use drops it.
///
/// A graph is meant to be built and walked on one thread; the arithmetic inside operations may
/// use several.
final class AutogradNode: @unchecked Sendable {
  /// Whether this node is a leaf (a tensor created with `requiresGradient: true`).
  let isLeaf: Bool

  /// The accumulated gradient of a leaf.
  var gradient: Tensor?

  /// The nodes of the operation's inputs, `nil` where an input needs no gradient.
  var inputs: [AutogradNode?]

  /// Maps the gradient of the operation's output to the gradients of its inputs (one per
  /// input, `nil` allowed where the input needs none). It owns the gradient it is given, so it
  /// may write its result into that buffer. Dropped after `backward()`.
  var backwardFunction: ((consuming Tensor) -> [Tensor?])?

  /// The `Profiler.measure` label this node was recorded under, while profiling.
  let profileLabel: String?

  /// A leaf.
  init(leaf: Void) {
    isLeaf = true
    inputs = []
    profileLabel = nil
  }

  /// An operation's output.
  init(inputs: [AutogradNode?], backward: @escaping (consuming Tensor) -> [Tensor?]) {
    isLeaf = false
    self.inputs = inputs
    backwardFunction = backward
    profileLabel = Profiler.isEnabled ? Profiler.currentLabel : nil
  }
}

/// Where the "record nothing" switch lives (per task, or per thread outside tasks).
enum GradientRecording {
  @TaskLocal static var isDisabled = false
}

/// Runs `body` in inference mode: no operation inside it records a gradient graph, so every
/// intermediate tensor is freed as soon as it is no longer used.
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
  try GradientRecording.$isDisabled.withValue(true) { try body() }
}

/// Whether operations record gradient graphs here (false inside `withoutGradients`).
public var isRecordingGradients: Bool { !GradientRecording.isDisabled }

extension Tensor {
  /// Whether gradients flow back through this tensor (a leaf that requires them, or the result
  /// of an operation on such tensors).
  public var requiresGradient: Bool { node != nil }

  /// Whether this tensor is a leaf of the gradient graph.
  public var isGradientLeaf: Bool { node?.isLeaf ?? false }

  /// The gradient accumulated by `backward()`, shaped like this tensor; only leaves have one.
  /// Set it to `nil` to clear it before the next step.
  public var gradient: Tensor? {
    get { node?.gradient }
    nonmutating set {
      precondition(node?.isLeaf ?? false, "gradient set on a tensor that is not a leaf")
      node?.gradient = newValue
    }
  }

  /// The same values, cut from the gradient graph: nothing flows back through the result.
  public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

  /// The same values as a new leaf that requires gradients (cut from any previous graph).
  public func requiringGradient() -> Tensor {
    Tensor(shape: shape, storage: storage, node: AutogradNode(leaf: ()))
  }

  /// Returns this freshly computed result with a graph node attached when any of `inputs`
  /// requires a gradient and recording is on; `backward` maps the result's gradient to one
  /// gradient per input (`nil` for inputs that need none).
  func recorded(from inputs: [Tensor], _ backward: @escaping (consuming Tensor) -> [Tensor?])
    -> Tensor
  {
    recorded(fromNodes: inputs.map(\.node), backward)
  }

  /// `recorded(from:_:)` given the inputs' graph nodes (for operations that consumed their
  /// inputs' storage).
  func recorded(
    fromNodes inputs: [AutogradNode?], _ backward: @escaping (consuming Tensor) -> [Tensor?]
  ) -> Tensor {
    guard isRecordingGradients, inputs.contains(where: { $0 != nil }) else { return self }
    return Tensor(
      shape: shape, storage: storage, node: AutogradNode(inputs: inputs, backward: backward))
  }

  /// Whether an operation on these inputs will record a node (so it must save what its
  /// backward pass reads).
  static func willRecord(_ inputs: Tensor?...) -> Bool {
    isRecordingGradients && inputs.contains { $0?.node != nil }
  }

  /// Back-propagates from this tensor, adding to the `gradient` of every leaf it depends on.
  ///
  /// - Parameters:
  ///   - seed: the gradient of the final objective with respect to this tensor, shaped like it;
  ///     omitted, this tensor must have one element and the seed is 1.
  ///   - retainingGraph: keep the saved values so that `backward` can run again over the same
  ///     graph; by default they are freed as the walk passes them.
  public func backward(seed: Tensor? = nil, retainingGraph: Bool = false) {
    guard let root = node else {
      preconditionFailure("backward() on a tensor that does not require gradients")
    }
    let rootGradient: Tensor
    if let seed {
      precondition(seed.shape == shape, "seed shape \(seed.shape) differs from \(shape)")
      rootGradient = seed.detached()
    } else {
      precondition(count == 1, "backward() without a seed needs one element, shape is \(shape)")
      rootGradient = Tensor(shape: shape, repeating: 1)
    }
    let profileStart = Profiler.isEnabled ? Profiler.now() : nil
    defer {
      if let profileStart { Profiler.report.backwardSeconds += Profiler.now() - profileStart }
    }

    withoutGradients {
      // Children before parents (iterative depth-first post-order).
      var order: [AutogradNode] = []
      var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
      var stack: [(node: AutogradNode, next: Int)] = [(root, 0)]
      while let top = stack.last {
        if top.next < top.node.inputs.count {
          stack[stack.count - 1].next += 1
          if let child = top.node.inputs[top.next],
            visited.insert(ObjectIdentifier(child)).inserted
          {
            stack.append((child, 0))
          }
        } else {
          stack.removeLast()
          order.append(top.node)
        }
      }

      // Walk from the root, handing each node the sum of its consumers' gradients.
      var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): rootGradient]
      for current in order.reversed() {
        guard let outputGradient = pending.removeValue(forKey: ObjectIdentifier(current)) else {
          continue
        }
        if current.isLeaf {
          current.gradient = Tensor.accumulate(current.gradient, outputGradient)
          continue
        }
        guard let backwardFunction = current.backwardFunction else {
          preconditionFailure(
            "backward() through a graph already walked; pass retainingGraph: true the first time")
        }
        let profileLabel = profileStart != nil ? current.profileLabel : nil
        let nodeStart = profileLabel != nil ? Profiler.now() : 0
        let inputGradients = backwardFunction(consume outputGradient)
        if let profileLabel {
          Profiler.report.backward[profileLabel, default: 0] += Profiler.now() - nodeStart
        }
        precondition(inputGradients.count == current.inputs.count, "backward arity mismatch")
        for (input, inputGradient) in zip(current.inputs, inputGradients) {
          guard let input, let inputGradient else { continue }
          let key = ObjectIdentifier(input)
          pending[key] = Tensor.accumulate(pending.removeValue(forKey: key), inputGradient)
        }
        if !retainingGraph {
          current.backwardFunction = nil
          current.inputs = []
        }
      }
    }
  }

  /// `existing + addition`, reusing `existing`'s storage when it is not shared.
  static func accumulate(_ existing: Tensor?, _ addition: Tensor) -> Tensor {
    guard var sum = existing else { return addition.detached() }
    precondition(sum.shape == addition.shape, "gradient shape \(addition.shape) ≠ \(sum.shape)")
    sum.node = nil
    sum.withUnsafeMutableBufferPointer { target in
      addition.withUnsafeBufferPointer { source in
        for index in 0..<target.count { target[index] += source[index] }
      }
    }
    return sum
  }
}
