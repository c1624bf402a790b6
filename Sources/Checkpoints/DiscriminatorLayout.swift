/// What a discriminator's state_dict says about its architecture, in the reference's layouts.
///
/// The PatchGAN (`NLayerDiscriminator`): `model.0` a 4×4 conv `[ndf, in, 4, 4]` with a bias,
/// then for each of `layers` stages a 4×4 conv at `model.(3n-1)` (`[ndf·min(2ⁿ, 8),
/// ndf·min(2ⁿ⁻¹, 8), 4, 4]`) and its norm at `model.(3n)`, and the output conv
/// `[1, ndf·min(2^layers, 8), 4, 4]` with a bias at `model.(3·layers+2)`. The pixel
/// discriminator: `net.0` `[ndf, in, 1, 1]` with a bias, `net.2` `[2·ndf, ndf, 1, 1]`, its norm
/// at `net.3`, and `net.5` `[1, 2·ndf, 1, 1]`. Inner convs carry a bias only with instance norm.
public struct DiscriminatorLayout: Equatable, Sendable {
  /// The two discriminators of the reference.
  public enum Kind: Equatable, Sendable {
    /// A PatchGAN with this many stages (3 is the reference's `basic`).
    case patch(layers: Int)
    /// The 1×1 PatchGAN.
    case pixel
  }

  public var kind: Kind
  public var ndf: Int
  public var inputChannels: Int
  public var norm: ResnetGeneratorLayout.Norm

  /// Infers the architecture from state_dict shapes (already `ReferenceKeys.normalized`) and
  /// checks that the keys and shapes are exactly those of that architecture, naming each
  /// offending key and shape otherwise.
  public init(inferringFrom shapes: [String: [Int]], path: String) throws(CheckpointError) {
    func mismatch(_ reason: String) -> CheckpointError {
      CheckpointError(
        .architectureMismatch, path: path,
        reason: "not a discriminator in the reference's layout: " + reason)
    }
    if let first = shapes["net.0.weight"] {
      guard first.count == 4, first[2] == 1, first[3] == 1, first[0] > 0 else {
        throw mismatch("net.0.weight has shape \(first), expected [ndf, input channels, 1, 1]")
      }
      kind = .pixel
      ndf = first[0]
      inputChannels = first[1]
      norm =
        shapes["net.3.weight"] != nil ? .batch : shapes["net.2.bias"] != nil ? .instance : .none
    } else if let first = shapes["model.0.weight"] {
      guard first.count == 4, first[2] == 4, first[3] == 4, first[0] > 0 else {
        throw mismatch("model.0.weight has shape \(first), expected [ndf, input channels, 4, 4]")
      }
      let convIndices = shapes.compactMap { key, shape -> Int? in
        let parts = key.split(separator: ".")
        guard parts.count == 3, parts[0] == "model", parts[2] == "weight", shape.count == 4 else {
          return nil
        }
        return Int(parts[1])
      }.sorted()
      let layers = convIndices.count - 2
      guard layers >= 1, convIndices == [0] + (1...layers).map({ 3 * $0 - 1 }) + [3 * layers + 2]
      else {
        throw mismatch(
          "convs at model.\(convIndices), expected model.0, model.2, model.5, … and the output conv"
        )
      }
      kind = .patch(layers: layers)
      ndf = first[0]
      inputChannels = first[1]
      norm =
        shapes["model.3.weight"] != nil ? .batch : shapes["model.2.bias"] != nil ? .instance : .none
    } else {
      let found = ReferenceKeys.stateDictOrder(shapes.keys).prefix(3).map { "\($0) \(shapes[$0]!)" }
      throw mismatch(
        "neither model.0.weight (PatchGAN) nor net.0.weight (pixel) is present (the file starts"
          + " with \(found.isEmpty ? "no tensors" : found.joined(separator: ", ")))")
    }

    var problems: [String] = []
    let expected = expectedShapes
    for (key, shape) in expected where shapes[key] != shape {
      if key.hasSuffix("num_batches_tracked"), shapes[key] == nil { continue }
      problems.append(
        (shapes[key].map { "\(key) has shape \($0)" } ?? "\(key) is missing")
          + ", expected \(shape)")
    }
    let expectedKeys = Set(expected.map(\.key))
    for key in ReferenceKeys.stateDictOrder(shapes.keys) where !expectedKeys.contains(key) {
      problems.append("\(key) (shape \(shapes[key]!)) is not part of this architecture")
    }
    guard problems.isEmpty else {
      throw mismatch(problems.joined(separator: "; "))
    }
  }

  /// The state_dict keys and shapes of this architecture, in the reference's order.
  public var expectedShapes: [(key: String, shape: [Int])] {
    var result: [(key: String, shape: [Int])] = []
    func conv(_ module: String, _ shape: [Int], bias: Bool) {
      result.append((module + ".weight", shape))
      if bias { result.append((module + ".bias", [shape[0]])) }
    }
    func normalization(_ module: String, channels: Int) {
      guard norm == .batch else { return }
      result += [
        (module + ".weight", [channels]), (module + ".bias", [channels]),
        (module + ".running_mean", [channels]), (module + ".running_var", [channels]),
        (module + ".num_batches_tracked", []),
      ]
    }
    let bias = norm == .instance
    switch kind {
    case .pixel:
      conv("net.0", [ndf, inputChannels, 1, 1], bias: true)
      conv("net.2", [2 * ndf, ndf, 1, 1], bias: bias)
      normalization("net.3", channels: 2 * ndf)
      conv("net.5", [1, 2 * ndf, 1, 1], bias: bias)
    case .patch(let layers):
      conv("model.0", [ndf, inputChannels, 4, 4], bias: true)
      var multiplier = 1
      for stage in 1...layers {
        let previous = multiplier
        multiplier = min(1 << stage, 8)
        conv("model.\(3 * stage - 1)", [ndf * multiplier, ndf * previous, 4, 4], bias: bias)
        normalization("model.\(3 * stage)", channels: ndf * multiplier)
      }
      conv("model.\(3 * layers + 2)", [1, ndf * multiplier, 4, 4], bias: true)
    }
    return result
  }
}
