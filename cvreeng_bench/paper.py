"""Figures published in the paper (facts, transcribed; no prose). The real-data tests check against them.

Jiang, Banna, Vivek, Goel, Synovic, Thiruvathukal, Davis. "Challenges and Practices of Deep Learning Model
Reengineering: A Case Study on Computer Vision". Empirical Software Engineering 29, 2024.
doi:10.1007/s10664-024-10521-0
"""

from __future__ import annotations

from dataclasses import dataclass

DOI = "10.1007/s10664-024-10521-0"
CITATION = (
    "Wenxin Jiang, Vishnu Banna, Naveen Vivek, Abhinav Goel, Nicholas Synovic, George K. Thiruvathukal, "
    "James C. Davis. Challenges and Practices of Deep Learning Model Reengineering: A Case Study on Computer "
    "Vision. Empirical Software Engineering, 2024. doi:" + DOI
)
BIBTEX = f"""@article{{jiang2024reengineering,
  author  = {{Jiang, Wenxin and Banna, Vishnu and Vivek, Naveen and Goel, Abhinav and Synovic, Nicholas and
             Thiruvathukal, George K. and Davis, James C.}},
  title   = {{Challenges and Practices of Deep Learning Model Reengineering: A Case Study on Computer Vision}},
  journal = {{Empirical Software Engineering}},
  volume  = {{29}},
  year    = {{2024}},
  doi     = {{{DOI}}}
}}"""

N_DEFECTS = 348
N_REENGINEERING_ISSUES = 334
N_SAMPLED_ISSUES = 427
N_NON_REENGINEERING_ISSUES = 93
N_REPOSITORIES = 27
N_SOLO, N_ZOO = 19, 8
TOTAL_CLOSED_ISSUES = 26786  # Table 4's printed total; its rows add up to 26815
# When the gold labels became public: the date of the pinned artifact commit, the earliest date this project
# can verify from the artifact itself (they may have been public earlier). A model whose training data reach
# this date may have seen the labels.
LABELS_PUBLIC_SINCE = "2022-03-04"
LABELS_PUBLIC_SINCE_SOURCE = ("the artifact repository's first commit 132ca9410ed3f243974025c23670aaee40c65c9c of "
                              "2022-03-04 ('init files') added 'Bug Study/CV Reengineering Defects.xlsx' with the "
                              "labeled defects; the cleaned CSV followed on 2023-02-16 (ed30bf45), the pinned commit "
                              "4cb1d7ee on 2023-08-25")
# Cohen's kappa the paper reports (Sec. 5.1.4): original instrument, revised instrument, half of the rest.
KAPPA = {"pilot": 0.46, "pilot-revised": 0.79, "final": 0.70}
# Where the text ranks two quoted shares (the headline_shares claims): (higher, lower, where the text says so).
# A system's labels keep a claim's order when the higher share stays strictly above the lower.
SHARE_ORDERS: tuple[tuple[str, str, str], ...] = (
    ("defects reported by re-users", "defects reported by replicators", "Finding 1"),
    ("external interface defects among environment defects", "internal interface defects among environment defects",
     "Sec. 6.2"),
    ("API defects among environment defects", "wrong environment configuration among environment defects",
     "Finding 4, Sec. 6.4"),
    ("wrong environment configuration among environment defects", "GPU usage bugs among environment defects",
     "Sec. 6.4"),
    ("data preprocessing among data-pipeline defects", "training data quality among data-pipeline defects",
     "Finding 4, Sec. 6.4"),
    ("training data quality among data-pipeline defects", "corrupt data among data-pipeline defects", "Sec. 6.4"),
    ("model/weight among modeling defects", "network structure among modeling defects", "Finding 4"),
    ("model/weight among modeling defects", "layer properties among modeling defects", "Finding 4"),
)


@dataclass(frozen=True)
class Table4Row:
    repo: str  # owner/name as studied and as upstream spells it
    family: str  # the table's section: "Zoo" or the model architecture
    repo_type: str  # Zoo / Solo
    origin: str | None  # Prototype / Replication for solo repositories
    stars_k: float
    forks_k: float
    closed_issues: int
    qualified_issues: int
    sampled_issues: int
    reengineering_issues: int
    defects: int
    current_repo: str | None = None  # where it lives now, when it moved


TABLE4: tuple[Table4Row, ...] = (
    Table4Row("tensorflow/models", "Zoo", "Zoo", None, 71.8, 45.0, 5560, 580, 58, 51, 51),
    Table4Row("facebookresearch/Detectron", "Zoo", "Zoo", None, 24.8, 5.4, 613, 27, 20, 15, 15),
    Table4Row("facebookresearch/detectron2", "Zoo", "Zoo", None, 18.7, 5.0, 2605, 90, 20, 12, 13),
    Table4Row("open-mmlab/mmdetection", "Zoo", "Zoo", None, 17.1, 6.1, 4348, 155, 20, 16, 16),
    Table4Row("rwightman/pytorch-image-models", "Zoo", "Zoo", None, 14.3, 2.3, 414, 11, 11, 5, 5,
              current_repo="huggingface/pytorch-image-models"),
    Table4Row("pytorch/vision", "Zoo", "Zoo", None, 10.2, 5.3, 1504, 139, 20, 14, 14),
    Table4Row("NVIDIA/DeepLearningExamples", "Zoo", "Zoo", None, 6.7, 2.0, 436, 22, 20, 18, 18),
    Table4Row("qubvel/segmentation_models", "Zoo", "Zoo", None, 3.5, 0.8, 167, 12, 12, 8, 8),
    Table4Row("ultralytics/yolov5", "YOLO", "Solo", "Prototype", 18.2, 6.3, 3795, 279, 20, 19, 21),
    Table4Row("ultralytics/yolov3", "YOLO", "Solo", "Replication", 8.0, 3.0, 1671, 204, 20, 17, 21),
    Table4Row("qqwweee/keras-yolo3", "YOLO", "Solo", "Replication", 6.9, 3.4, 226, 16, 16, 13, 13),
    Table4Row("eriklindernoren/PyTorch-YOLOv3", "YOLO", "Solo", "Replication", 6.3, 2.5, 557, 26, 20, 18, 19),
    Table4Row("YunYang1994/tensorflow-yolov3", "YOLO", "Solo", "Replication", 3.5, 1.4, 116, 3, 3, 3, 4),
    Table4Row("matterport/Mask_RCNN", "Mask R-CNN", "Solo", "Prototype", 20.9, 10.2, 783, 62, 20, 15, 16),
    Table4Row("CharlesShang/FastMaskRCNN", "Mask R-CNN", "Solo", "Replication", 3.1, 1.1, 55, 2, 2, 1, 1),
    Table4Row("TuSimple/mx-maskrcnn", "Mask R-CNN", "Solo", "Replication", 1.8, 0.5, 83, 7, 7, 6, 6),
    Table4Row("ShaoqingRen/faster_rcnn", "Faster R-CNN", "Solo", "Prototype", 2.5, 1.2, 53, 5, 5, 4, 4),
    Table4Row("rbgirshick/py-faster-rcnn", "Faster R-CNN", "Solo", "Replication", 7.5, 4.1, 253, 33, 20, 17, 17),
    Table4Row("jwyang/faster-rcnn.pytorch", "Faster R-CNN", "Solo", "Replication", 6.6, 2.2, 363, 34, 20, 17, 18),
    Table4Row("endernewton/tf-faster-rcnn", "Faster R-CNN", "Solo", "Replication", 3.6, 1.6, 65, 15, 15, 12, 12),
    Table4Row("chenyuntc/simple-faster-rcnn-pytorch", "Faster R-CNN", "Solo", "Replication", 3.4, 1.0, 267, 2,
              2, 1, 2),
    Table4Row("fizyr/keras-retinanet", "RetinaNet", "Solo", "Prototype", 4.2, 2.0, 1227, 90, 20, 16, 18),
    Table4Row("yhenon/pytorch-retinanet", "RetinaNet", "Solo", "Replication", 1.8, 0.3, 78, 4, 4, 2, 2),
    Table4Row("junyanz/pytorch-CycleGAN-and-pix2pix", "pix2pix", "Solo", "Prototype", 16.2, 4.9, 847, 48, 20, 15,
              15),
    Table4Row("phillipi/pix2pix", "pix2pix", "Solo", "Prototype", 8.7, 1.6, 119, 13, 13, 5, 5),
    Table4Row("xingyizhou/CenterNet", "CenterNet", "Solo", "Prototype", 6.0, 1.7, 542, 17, 17, 12, 12),
    Table4Row("Duankaiwen/CenterNet", "CenterNet", "Solo", "Prototype", 1.8, 0.6, 68, 2, 2, 2, 2),
)


def table4() -> dict[str, Table4Row]:
    return {row.repo: row for row in TABLE4}
