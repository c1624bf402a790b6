/// Checkpoints: see docs/ARCHITECTURE.md for what this module owns.
import Tensors
