/// How `Sequential` reports its layers to the opt-in `Profiler` of Tensors (for the per-layer
/// breakdown of bench/cyclegan.py): while profiling, each layer without children that a
/// `Sequential` applies runs inside `Profiler.measure(LayerProfiling.label(layer))`, so its
/// forward time and the backward time of the nodes it records count under that label. Layers
/// with children are not measured themselves; their own `Sequential`s measure their leaves.
import Tensors

public enum LayerProfiling {
  /// The label of a leaf layer; by default its type's name (`Conv2d`, `ReLU`, …). Set it
  /// before `Profiler.start()` from the thread that runs the networks.
  nonisolated(unsafe) public static var label: (any Layer) -> String = { "\(type(of: $0))" }

  /// The label of `Adam.step` and `SGD.step`.
  public static let optimizerLabel = "optimizer"

  /// `layer(input)`, measured under its label when profiling is on and it has no children.
  static func apply(_ layer: any Layer, to input: Tensor) -> Tensor {
    guard Profiler.isEnabled, layer.children.isEmpty else { return layer(input) }
    return Profiler.measure(label(layer)) { layer(input) }
  }
}
