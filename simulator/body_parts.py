"""The body parts a scenario's study type can name: DICOM's BodyPartExamined defined terms (PS3.16 Annex
L), each with its code in CID 4031 "Common Anatomic Regions" (SNOMED CT), which generated images carry in
AnatomicRegionSequence (the DX and MG IODs require it with the body part). A test checks every code
against pydicom's copy of the standard's code tables.
"""
from __future__ import annotations

import difflib

__all__ = ["BODY_PARTS", "PAIRED", "SIDED", "body_part", "SCHEME"]

SCHEME = "SCT"
BODY_PARTS: dict[str, tuple[str, str]] = {  # term -> (SNOMED CT code, meaning)
    "ABDOMEN": ("818981001", "Abdomen"), "ABDOMENPELVIS": ("818982008", "Abdomen and Pelvis"),
    "ACJOINT": ("85856004", "Acromioclavicular joint"), "ANKLE": ("70258002", "Ankle joint"),
    "ARM": ("40983000", "Upper arm"), "BILEDUCT": ("28273000", "Bile duct"), "BLADDER": ("89837001", "Bladder"),
    "BREAST": ("76752008", "Breast"), "BRONCHUS": ("955009", "Bronchus"), "CALCANEUS": ("80144004", "Calcaneus"),
    "CHEST": ("816094009", "Chest"), "CHESTABDOMEN": ("416550000", "Chest and Abdomen"),
    "CHESTABDPELVIS": ("416775004", "Chest, Abdomen and Pelvis"), "CLAVICLE": ("51299004", "Clavicle"),
    "COCCYX": ("64688005", "Coccyx"), "COLON": ("71854001", "Colon"), "CSPINE": ("122494005", "Cervical spine"),
    "CTSPINE": ("1217257000", "Cervico-thoracic spine"), "DUODENUM": ("38848004", "Duodenum"),
    "ELBOW": ("16953009", "Elbow joint"), "ESOPHAGUS": ("32849002", "Esophagus"),
    "EXTREMITY": ("66019005", "Extremity"), "EYE": ("81745001", "Eye"), "FEMUR": ("71341001", "Femur"),
    "FIBULA": ("87342007", "Fibula"), "FINGER": ("7569003", "Finger"), "FOOT": ("56459004", "Foot"),
    "FOREARM": ("14975008", "Forearm"), "GALLBLADDER": ("28231008", "Gallbladder"), "HAND": ("85562004", "Hand"),
    "HEAD": ("69536005", "Head"), "HEADNECK": ("774007", "Head and Neck"), "HEART": ("80891009", "Heart"),
    "HIP": ("24136001", "Hip joint"), "HUMERUS": ("85050009", "Humerus"),
    "IAC": ("361078006", "Internal Auditory Canal"), "ILEUM": ("34516001", "Ileum"), "ILIUM": ("22356005", "Ilium"),
    "JAW": ("661005", "Jaw region"), "JEJUNUM": ("21306003", "Jejunum"), "KNEE": ("72696002", "Knee"),
    "LARYNX": ("4596009", "Larynx"), "LEG": ("30021000", "Lower leg"), "LSPINE": ("122496007", "Lumbar spine"),
    "LSSPINE": ("1217253001", "Lumbo-sacral spine"), "MANDIBLE": ("91609006", "Mandible"),
    "MASTOID": ("59066005", "Mastoid bone"), "MAXILLA": ("70925003", "Maxilla"),
    "MEDIASTINUM": ("72410000", "Mediastinum"), "NECK": ("45048000", "Neck"),
    "NECKCHEST": ("417437006", "Neck and Chest"), "NECKCHESTABDOMEN": ("416152001", "Neck, Chest and Abdomen"),
    "NECKCHESTABDPELV": ("416319003", "Neck, Chest, Abdomen and Pelvis"),
    "ORBIT": ("363654007", "Orbital structure"), "PANCREAS": ("15776009", "Pancreas"),
    "PAROTID": ("45289007", "Parotid gland"), "PATELLA": ("64234005", "Patella"), "PELVIS": ("816092008", "Pelvis"),
    "PROSTATE": ("41216001", "Prostate"), "RECTUM": ("34402009", "Rectum"), "RIB": ("113197003", "Rib"),
    "SACRUM": ("54735007", "Sacrum"), "SCAPULA": ("79601000", "Scapula"),
    "SCJOINT": ("7844006", "Sternoclavicular joint"), "SELLA": ("42575006", "Sella turcica"),
    "SHOULDER": ("16982005", "Shoulder"), "SIJOINT": ("39723000", "Sacroiliac joint"),
    "SKULL": ("89546000", "Skull"), "SPINE": ("421060004", "Spine"),
    "SSPINE": ("1217254007", "Sacro-coccygeal Spine"), "STERNUM": ("56873002", "Sternum"),
    "STOMACH": ("69695003", "Stomach"), "THIGH": ("68367000", "Thigh"), "THUMB": ("76505004", "Thumb"),
    "TLSPINE": ("1217256009", "Thoraco-lumbar spine"), "TMJ": ("53620006", "Temporomandibular joint"),
    "TOE": ("29707007", "Toe"), "TRACHEA": ("44567001", "Trachea"), "TSPINE": ("122495006", "Thoracic spine"),
    "URETER": ("87953007", "Ureter"), "URETHRA": ("13648007", "Urethra"), "WHOLEBODY": ("38266002", "Entire body"),
    "WRIST": ("74670003", "Wrist joint"), "ZYGOMA": ("13881006", "Zygoma"),

}
# Parts the body has two of: a projection of one is of both sides, or of one (ImageLaterality).
PAIRED = frozenset({"ACJOINT", "ANKLE", "ARM", "BREAST", "CALCANEUS", "CLAVICLE", "ELBOW", "EXTREMITY", "EYE", "FEMUR",
                    "FIBULA", "FINGER", "FOOT", "FOREARM", "HAND", "HIP", "HUMERUS", "IAC", "ILIUM", "KNEE", "LEG",
                    "MASTOID", "ORBIT", "PAROTID", "PATELLA", "SCAPULA", "SCJOINT", "SHOULDER", "SIJOINT", "THIGH",
                    "THUMB", "TMJ", "TOE", "WRIST"})
# Parts whose General Series Laterality an image must carry (type 2C), as dicom3tools' dciodvfy checks PS3.3:
# the pairs above, less the ilium, and the parts it counts as sided besides (a rib, a bronchus, ...).
SIDED = (PAIRED - {"ILIUM"}) | {"BILEDUCT", "BRONCHUS", "MANDIBLE", "RIB", "SACRUM", "SELLA", "ZYGOMA"}


def body_part(text: str) -> str:
    """The defined term for `text` (any letter case); ValueError naming the closest terms otherwise."""
    term = text.strip().upper().replace(" ", "")
    if term in BODY_PARTS:
        return term
    close = difflib.get_close_matches(term, BODY_PARTS, n=3)
    raise ValueError(f"{text!r} is not a DICOM body part (BodyPartExamined defined terms, e.g. CHEST, ABDOMEN, "
                     f"KNEE, CSPINE)" + (f"; did you mean {', '.join(close)}?" if close else ""))
