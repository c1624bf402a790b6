/// Checkpoints: tensors on disk, in the formats users already have.
///
/// - `SafetensorsFile`: read (F32, F16, BF16) and write (F32, F16), with the header validated
///   strictly before any tensor is built.
/// - `PyTorchCheckpoint`: read both of `torch.save`'s formats (the zip archive since 1.6 and
///   the older bare pickle stream) through a strict unpickler that knows only what a
///   `state_dict` of tensors needs, and write the zip format that `torch.load` reads with
///   `weights_only=True`.
///
/// Every failure is a `CheckpointError` naming the file and the reason; files are written
/// atomically (a temporary file beside the destination, then a rename).
import Tensors
