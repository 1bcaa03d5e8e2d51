"""One inspector per servable type, in a registry keyed by the manifest's `servable.type`.

Inspectors that load a user's model do it through `runner.run_probe` (a subprocess with a timeout);
Keras and TensorFlow files are read as data, without their frameworks.
"""

from __future__ import annotations

from dlhub_manifest.build.inspect import class_method, keras, pytorch, sklearn, static_method, tensorflow
from dlhub_manifest.build.inspect.base import InspectContext, Inspection, Inspector

INSPECTORS: dict[str, Inspector] = {
    "sklearn": sklearn.KIND,
    "static_method": static_method.KIND,
    "class_method": class_method.KIND,
    "pytorch": pytorch.KIND,
    "keras": keras.KIND,
    "tensorflow": tensorflow.KIND,
}

__all__ = ["INSPECTORS", "InspectContext", "Inspection", "Inspector"]
