"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch08_classification_localization.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own. The accuracy target (build_localization_model) is scored on a
scale: see SCORED.
"""

from tests.mutants import change, solution_source

CHAPTER = "ch08_classification_localization"

# ----------------------------------------------------------------------------- xywh_to_xyxy

_TO_XYXY = solution_source(CHAPTER, "xywh_to_xyxy")
_CORNERS = "return np.stack([x_min, y_min, x_min + width, y_min + height], axis=-1)"

WRONG_TO_XYXY = {
    "xy taken as the centre (centre-size confusion)": change(_TO_XYXY, (
        _CORNERS,
        "return np.stack([x_min - width / 2, y_min - height / 2, x_min + width / 2, y_min + height / 2], "
        "axis=-1)")),
    "width and height swapped": change(
        _TO_XYXY, ("x_min + width, y_min + height", "x_min + height, y_min + width")),
    "inclusive max edge (-1)": change(
        _TO_XYXY, ("x_min + width, y_min + height", "x_min + width - 1, y_min + height - 1")),
    "modifies the input in place and returns it": '''
def xywh_to_xyxy(boxes):
    boxes[..., 2] += boxes[..., 0]
    boxes[..., 3] += boxes[..., 1]
    return boxes
''',
    "only for (N, 4) arrays (column indexing)": '''
def xywh_to_xyxy(boxes):
    boxes = np.asarray(boxes)
    return np.stack([boxes[:, 0], boxes[:, 1], boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]], axis=1)
''',
    "returns the sizes again instead of the max corner": change(
        _TO_XYXY, ("x_min + width, y_min + height", "width, height")),
    "stacked on the first axis": change(_TO_XYXY, ("axis=-1)", "axis=0)")),
}
RIGHT_TO_XYXY = {
    "concatenate slices with an ellipsis, copy": '''
def xywh_to_xyxy(boxes):
    boxes = np.array(boxes, copy=True)
    return np.concatenate([boxes[..., :2], boxes[..., :2] + boxes[..., 2:]], axis=-1)
''',
    "a 4x4 matrix on the last axis": '''
def xywh_to_xyxy(boxes):
    to_corners = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]])
    return np.asarray(boxes) @ to_corners.T
''',
    "copy then add in place": '''
def xywh_to_xyxy(boxes):
    out = np.array(boxes, dtype=float)
    out[..., 2:] += out[..., :2]
    return out
''',
}

# ----------------------------------------------------------------------------- xyxy_to_xywh

_TO_XYWH = solution_source(CHAPTER, "xyxy_to_xywh")

WRONG_TO_XYWH = {
    "centre instead of the corner": change(_TO_XYWH, (
        "np.stack([x_min, y_min, x_max - x_min, y_max - y_min], axis=-1)",
        "np.stack([(x_min + x_max) / 2, (y_min + y_max) / 2, x_max - x_min, y_max - y_min], axis=-1)")),
    "inclusive edges (+1)": change(
        _TO_XYWH, ("x_max - x_min, y_max - y_min", "x_max - x_min + 1, y_max - y_min + 1")),
    "width and height swapped": change(
        _TO_XYWH, ("x_max - x_min, y_max - y_min", "y_max - y_min, x_max - x_min")),
    "size with the wrong sign": change(
        _TO_XYWH, ("x_max - x_min, y_max - y_min", "x_min - x_max, y_min - y_max")),
    "modifies the input in place and returns it": '''
def xyxy_to_xywh(boxes):
    boxes[..., 2] -= boxes[..., 0]
    boxes[..., 3] -= boxes[..., 1]
    return boxes
''',
    "only for (N, 4) arrays (column indexing)": '''
def xyxy_to_xywh(boxes):
    boxes = np.asarray(boxes)
    return np.stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
''',
}
RIGHT_TO_XYWH = {
    "concatenate slices with an ellipsis": '''
def xyxy_to_xywh(boxes):
    boxes = np.asarray(boxes)
    return np.concatenate([boxes[..., :2], boxes[..., 2:] - boxes[..., :2]], axis=-1)
''',
    "a 4x4 matrix on the last axis": '''
def xyxy_to_xywh(boxes):
    to_sizes = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [-1, 0, 1, 0], [0, -1, 0, 1]])
    return np.asarray(boxes) @ to_sizes.T
''',
    "copy then subtract in place": '''
def xyxy_to_xywh(boxes):
    out = np.array(boxes, dtype=np.float64)
    out[..., 2:] -= out[..., :2]
    return out
''',
}

# ----------------------------------------------------------------------------- iou

_IOU = solution_source(CHAPTER, "iou")
# the lines of the solution that several cases edit
_X_OVERLAP = "np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])"
_Y_OVERLAP = "np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])"
_WIDTH = f"width = np.clip({_X_OVERLAP}, 0, None)"
_HEIGHT = f"height = np.clip({_Y_OVERLAP}, 0, None)"
_AREA_A = "area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)"
_AREA_B = "area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)"
_UNION = "union = area_a[:, None] + area_b[None, :] - intersection"
_RESULT = "return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), 0.0)"

WRONG_IOU = {
    "inclusive edges (+1 pixel)": change(
        _IOU,
        ("b[None, :, 0]), 0, None)", "b[None, :, 0]) + 1, 0, None)"),
        ("b[None, :, 1]), 0, None)", "b[None, :, 1]) + 1, 0, None)"),
        (_AREA_A, _AREA_A.replace("a[:, 0], 0", "a[:, 0] + 1, 0").replace("a[:, 1], 0", "a[:, 1] + 1, 0")),
        (_AREA_B, _AREA_B.replace("b[:, 0], 0", "b[:, 0] + 1, 0").replace("b[:, 1], 0", "b[:, 1] + 1, 0"))),
    "union without subtracting the intersection": change(
        _IOU, (_UNION, "union = area_a[:, None] + area_b[None, :]")),
    "max and min swapped in the intersection": change(
        _IOU,
        (_X_OVERLAP, "np.maximum(a[:, None, 2], b[None, :, 2]) - np.minimum(a[:, None, 0], b[None, :, 0])"),
        (_Y_OVERLAP, "np.maximum(a[:, None, 3], b[None, :, 3]) - np.minimum(a[:, None, 1], b[None, :, 1])")),
    "negative overlap not clipped": change(
        _IOU, (_WIDTH, f"width = {_X_OVERLAP}"), (_HEIGHT, f"height = {_Y_OVERLAP}")),
    "negative overlap clipped for the product only (not each side)": change(
        _IOU, (_WIDTH, f"width = {_X_OVERLAP}"), (_HEIGHT, f"height = {_Y_OVERLAP}"),
        ("intersection = width * height", "intersection = np.clip(width * height, 0, None)")),
    "element-wise (box i with box i) instead of pairwise": '''
def iou(boxes_a, boxes_b):
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    intersection = width * height
    union = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
             - intersection)
    return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), 0.0)
''',
    "nan on zero-area boxes (unguarded division)": change(_IOU, (_RESULT, "return intersection / union")),
    "transposed result (M, N)": change(_IOU, (_RESULT, _RESULT + ".T")),
    "divides by the smaller area (intersection over minimum)": change(
        _IOU, (_UNION, "union = np.minimum(area_a[:, None], area_b[None, :])")),
    "x and y coordinates mixed up (boxes read as y, x)": change(
        _IOU,
        (_WIDTH, _WIDTH.replace("(a[:, None, 2], b[None, :, 2])", "(a[:, None, 1], b[None, :, 1])")),
        (_HEIGHT, _HEIGHT.replace("(a[:, None, 1], b[None, :, 1])", "(a[:, None, 2], b[None, :, 2])"))),
    "a Python loop over every pair (too slow)": '''
def iou(boxes_a, boxes_b):
    out = np.zeros((len(boxes_a), len(boxes_b)))
    for i, (ax0, ay0, ax1, ay1) in enumerate(np.asarray(boxes_a, float)):
        for j, (bx0, by0, bx1, by1) in enumerate(np.asarray(boxes_b, float)):
            inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
            union = (max(0.0, ax1 - ax0) * max(0.0, ay1 - ay0) + max(0.0, bx1 - bx0) * max(0.0, by1 - by0)
                     - inter)
            out[i, j] = inter / union if union > 0 else 0.0
    return out
''',
}
RIGHT_IOU = {
    "ufunc.outer and np.divide with where=": '''
def iou(boxes_a, boxes_b):
    a = np.asarray(boxes_a, dtype=float).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=float).reshape(-1, 4)
    w = np.maximum(0.0, np.minimum.outer(a[:, 2], b[:, 2]) - np.maximum.outer(a[:, 0], b[:, 0]))
    h = np.maximum(0.0, np.minimum.outer(a[:, 3], b[:, 3]) - np.maximum.outer(a[:, 1], b[:, 1]))
    inter = w * h
    area = lambda z: np.maximum(0.0, z[:, 2] - z[:, 0]) * np.maximum(0.0, z[:, 3] - z[:, 1])
    union = np.add.outer(area(a), area(b)) - inter
    out = np.zeros_like(union)
    np.divide(inter, union, out=out, where=union > 0)
    return out
''',
    "a loop over the first set, vectorised over the second": '''
def iou(boxes_a, boxes_b):
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    rows = []
    for x0, y0, x1, y1 in a:
        w = np.clip(np.minimum(x1, b[:, 2]) - np.maximum(x0, b[:, 0]), 0, None)
        h = np.clip(np.minimum(y1, b[:, 3]) - np.maximum(y0, b[:, 1]), 0, None)
        inter = w * h
        union = max(x1 - x0, 0) * max(y1 - y0, 0) + area_b - inter
        rows.append(np.where(union > 0, inter / np.maximum(union, 1e-300), 0.0))
    return np.array(rows).reshape(len(a), len(b))
''',
    "TensorFlow ops, clipped boxes first, returns float32": '''
def iou(boxes_a, boxes_b):
    a = tf.reshape(tf.constant(boxes_a, tf.float32), (-1, 1, 4))
    b = tf.reshape(tf.constant(boxes_b, tf.float32), (1, -1, 4))
    a = tf.concat([a[..., :2], tf.maximum(a[..., 2:], a[..., :2])], axis=-1)
    b = tf.concat([b[..., :2], tf.maximum(b[..., 2:], b[..., :2])], axis=-1)
    lo = tf.maximum(a[..., :2], b[..., :2])
    hi = tf.minimum(a[..., 2:], b[..., 2:])
    inter = tf.reduce_prod(tf.maximum(hi - lo, 0.0), axis=-1)
    area_a = tf.reduce_prod(a[..., 2:] - a[..., :2], axis=-1)
    area_b = tf.reduce_prod(b[..., 2:] - b[..., :2], axis=-1)
    return tf.math.divide_no_nan(inter, area_a + area_b - inter).numpy()
''',
}

WRONG = {"xywh_to_xyxy": WRONG_TO_XYXY, "xyxy_to_xywh": WRONG_TO_XYWH, "iou": WRONG_IOU}
RIGHT = {"xywh_to_xyxy": RIGHT_TO_XYXY, "xyxy_to_xywh": RIGHT_TO_XYWH, "iou": RIGHT_IOU}
SCORED = {
    "build_localization_model": "class-accuracy and mean-IoU targets with partial credit; "
    "checked by the round trip"
}
