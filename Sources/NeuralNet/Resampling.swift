/// Padding and upsampling layers over `[N, C, H, W]`.
import Tensors

/// How a padding layer fills the new border.
public enum PaddingMode: String, Sendable, Codable, CaseIterable {
  /// Mirror without repeating the edge (PyTorch's `ReflectionPad2d`, `padding_type='reflect'`).
  case reflection = "reflect"
  /// Repeat the edge (PyTorch's `ReplicationPad2d`, `'replicate'`).
  case replication = "replicate"
  /// Zeros (PyTorch's `ZeroPad2d`, `'zero'`).
  case zero
}

/// Padding of `[N, C, H, W]` to `[N, C, H + top + bottom, W + left + right]` (PyTorch's
/// `ReflectionPad2d`, `ReplicationPad2d` and `ZeroPad2d`).
public final class Pad2d: Layer {
  public let mode: PaddingMode
  public let left: Int
  public let right: Int
  public let top: Int
  public let bottom: Int
  public var isTraining = true

  /// The same padding on every side.
  public convenience init(_ mode: PaddingMode, padding: Int) {
    self.init(mode, left: padding, right: padding, top: padding, bottom: padding)
  }

  /// Padding per side, in PyTorch's tuple order (left, right, top, bottom).
  public init(_ mode: PaddingMode, left: Int, right: Int, top: Int, bottom: Int) {
    precondition(
      left >= 0 && right >= 0 && top >= 0 && bottom >= 0,
      "negative padding \(left), \(right), \(top), \(bottom)")
    self.mode = mode
    self.left = left
    self.right = right
    self.top = top
    self.bottom = bottom
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    switch mode {
    case .reflection:
      reflectionPad2d(input, left: left, right: right, top: top, bottom: bottom)
    case .replication:
      replicationPad2d(input, left: left, right: right, top: top, bottom: bottom)
    case .zero:
      zeroPad2d(input, left: left, right: right, top: top, bottom: bottom)
    }
  }
}

/// How `Upsample` interpolates.
public enum UpsamplingMode: String, Sendable, Codable, CaseIterable {
  /// Each input pixel repeated (PyTorch's `mode='nearest'`).
  case nearest
  /// Bilinear with `align_corners=False` (PyTorch's `mode='bilinear'`).
  case bilinear
}

/// Upsampling of `[N, C, H, W]` to `[N, C, scale·H, scale·W]` (PyTorch's `nn.Upsample` with an
/// integer `scale_factor`).
public final class Upsample: Layer {
  public let scale: Int
  public let mode: UpsamplingMode
  public var isTraining = true

  public init(scale: Int, mode: UpsamplingMode) {
    precondition(scale > 0, "upsampling scale must be positive, got \(scale)")
    self.scale = scale
    self.mode = mode
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    switch mode {
    case .nearest: upsampleNearest2d(input, scale: scale)
    case .bilinear: upsampleBilinear2d(input, scale: scale)
    }
  }
}
