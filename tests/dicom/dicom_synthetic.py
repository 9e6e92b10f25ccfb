"""Synthetic DICOM written by the tests: CT and PET series (pydicom), RTSTRUCT (rt-utils), SEG.

Every header carries identifying values (PATIENT_NAME, PATIENT_ID, INSTITUTION, dates, UIDs)
so that tests can check none of them reaches an output. UIDs are derived from fixed strings, so
the files are the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "SECRET-ID-4711"
INSTITUTION = "Sankt Irgendwo Hospital"
BIRTH_DATE = "19610203"
STUDY_DATE = "20240102"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
PET_IMAGE = "1.2.840.10008.5.1.4.1.1.128"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"

#: CT grid (numpy z, y, x) with non-square slices and anisotropic voxels. The pixels are square:
#: rt-utils 1.2.7 scales the column direction by PixelSpacing[0] (the row spacing), so its
#: contours are only right for square pixels.
CT_SHAPE = (10, 30, 36)
CT_SPACING = (2.5, 0.75, 0.75)  # z, y, x mm
CT_ORIGIN = (30.0, -20.0, -10.0)  # z, y, x mm (physical x, y, z = -10, -20, 30)


def uid(*parts) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=["radsem-test", *[str(p) for p in parts]])


def ct_volume(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """HU volume (int16) and the known tumour mask (uint8): an off-centre ellipsoid."""
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(CT_SHAPE)
    body = ((y - 15) / 13.0) ** 2 + ((x - 18) / 16.0) ** 2 <= 1.0
    tumour = (
        ((z - 5.2) * 2.5 / 8.0) ** 2
        + ((y - 13.3) * 0.75 / 6.0) ** 2
        + ((x - 20.1) * 0.75 / 7.0) ** 2
    ) <= 1.0
    hu = np.where(body, 40.0, -1000.0) + np.where(tumour, 35.0, 0.0)
    hu = np.clip(hu + rng.normal(0.0, 18.0, CT_SHAPE), -1024, 3000)
    return np.round(hu).astype(np.int16), tumour.astype(np.uint8)


def _base(
    modality: str,
    sop_class: str,
    series: str,
    index: int,
    description: str,
    patient_id: str = PATIENT_ID,
):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid(series, "sop", index)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = PATIENT_NAME
    ds.PatientID = patient_id
    ds.PatientBirthDate = BIRTH_DATE
    ds.PatientSex = "F"
    ds.InstitutionName = INSTITUTION
    ds.StudyDate = STUDY_DATE
    ds.StudyTime = "093000"
    ds.SeriesDate = STUDY_DATE
    ds.SeriesTime = "100000"
    ds.AccessionNumber = "ACC0815"
    ds.StudyID = "S1"
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid(series)
    ds.FrameOfReferenceUID = uid("frame")
    ds.Modality = modality
    ds.SeriesDescription = description
    ds.SeriesNumber = 1
    ds.InstanceNumber = index + 1
    ds.Manufacturer = "radsem-tests"
    return ds


def _pixels(ds, stored: np.ndarray) -> None:
    ds.Rows, ds.Columns = int(stored.shape[0]), int(stored.shape[1])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(stored.astype(np.uint16)).tobytes()


def _geometry(
    ds, k: int, spacing, origin, orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), z_positions=None
) -> None:
    dz, dy, dx = spacing
    z0, y0, x0 = origin
    z = z0 + k * dz if z_positions is None else z_positions[k]
    ds.ImagePositionPatient = [float(x0), float(y0), float(z)]
    ds.ImageOrientationPatient = list(orientation)
    ds.PixelSpacing = [float(dy), float(dx)]
    ds.SliceThickness = float(dz)


def write_ct(
    folder: Path,
    hu: np.ndarray,
    *,
    series: str = "ct",
    description: str = "CT THORAX",
    spacing=CT_SPACING,
    origin=CT_ORIGIN,
    skip: tuple[int, ...] = (),
    z_positions=None,
    modality: str = "CT",
    patient_id: str = PATIENT_ID,
) -> Path:
    """One CT series (stored value = HU + 1024, intercept -1024), one file per slice."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(hu.shape[0]):
        if k in skip:
            continue
        ds = _base(
            modality,
            CT_IMAGE if modality == "CT" else MR_IMAGE,
            series,
            k,
            description,
            patient_id,
        )
        _geometry(ds, k, spacing, origin, z_positions=z_positions)
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        _pixels(ds, hu[k].astype(np.int32) + 1024)
        # file names in reverse order so that sorting by name would be wrong
        ds.save_as(folder / f"IMG{hu.shape[0] - k:04d}.dcm", enforce_file_format=True)
    return folder


PET_DOSE = 370.0e6  # Bq
PET_HALF_LIFE = 6586.2  # s (F-18)
PET_WEIGHT = 72.5  # kg


def write_pet(
    folder: Path,
    activity: np.ndarray,
    *,
    spacing,
    origin,
    series: str = "pet",
    injection: str | None = "100000",
    decay: str | None = "START",
    series_time: str = "110000",
    units: str = "BQML",
    drop: tuple[str, ...] = (),
    patient_id: str = PATIENT_ID,
) -> Path:
    """A PET series in Bq/ml with a per-slice RescaleSlope (as scanners write them)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    folder.mkdir(parents=True, exist_ok=True)
    for k in range(activity.shape[0]):
        ds = _base("PT", PET_IMAGE, series, k, "PET WB AC", patient_id)
        _geometry(ds, k, spacing, origin)
        ds.SeriesTime = series_time
        ds.AcquisitionDate = STUDY_DATE
        ds.AcquisitionTime = f"{int(series_time[:2]):02d}{int(series_time[2:4]) + 1:02d}00"
        ds.Units = units
        if decay is not None:
            ds.DecayCorrection = decay
        ds.CorrectedImage = ["ATTN", "DECY"]
        ds.PatientWeight = PET_WEIGHT
        item = Dataset()
        item.RadionuclideTotalDose = PET_DOSE
        item.RadionuclideHalfLife = PET_HALF_LIFE
        if injection is not None:
            item.RadiopharmaceuticalStartTime = injection
        ds.RadiopharmaceuticalInformationSequence = Sequence([item])
        for key in drop:
            if key in ds:
                delattr(ds, key)
            if key in item:
                delattr(item, key)
        top = float(activity[k].max()) or 1.0
        slope = top / 60000.0
        ds.RescaleSlope = f"{slope:.10g}"
        ds.RescaleIntercept = 0
        _pixels(ds, np.round(activity[k] / float(ds.RescaleSlope)))
        ds.save_as(folder / f"PET{k:04d}.dcm", enforce_file_format=True)
    return folder


def pet_values(folder: Path) -> np.ndarray:
    """The Bq/ml values the PET files actually hold (stored x slope), z, y, x."""
    import pydicom

    files = sorted(folder.glob("*.dcm"))
    out = []
    for f in files:
        ds = pydicom.dcmread(f)
        out.append(
            (
                float(ds.ImagePositionPatient[2]),
                ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope),
            )
        )
    return np.stack([a for _, a in sorted(out, key=lambda t: t[0])])


def write_rtstruct(series_folder: Path, masks: dict[str, np.ndarray], out: Path) -> Path:
    """An RTSTRUCT made by rt-utils from known masks (numpy z, y, x) on a series."""
    from rt_utils import RTStructBuilder

    rt = RTStructBuilder.create_new(dicom_series_path=str(series_folder))
    for name, mask in masks.items():
        rt.add_roi(mask=np.transpose(mask.astype(bool), (1, 2, 0)), name=name)
    rt.save(str(out))
    return out


def write_seg(series_folder: Path, mask: np.ndarray, out: Path, label: str = "Tumour") -> Path:
    """A binary DICOM SEG made by highdicom from a known mask (numpy z, y, x) on a series."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    sources = sorted(
        (pydicom.dcmread(f) for f in series_folder.glob("*.dcm")),
        key=lambda d: float(d.ImagePositionPatient[2]),
    )
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=mask.astype(bool),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=uid("seg-series"),
        series_number=99,
        sop_instance_uid=uid("seg"),
        instance_number=1,
        manufacturer="radsem-tests",
        manufacturer_model_name="synthetic",
        software_versions="0",
        device_serial_number="0",
    )
    seg.save_as(out)
    return out


def write_contours(
    out: Path,
    rois: dict[str, list],
    *,
    frame: str | None = None,
    series: str | None = None,
    kind: str = "CLOSED_PLANAR",
) -> Path:
    """A minimal RTSTRUCT written by hand: ROI name -> list of (n, 3) physical contours."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian

    rt_class = "1.2.840.10008.5.1.4.1.1.481.3"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = rt_class
    meta.MediaStorageSOPInstanceUID = uid("hand-rt", out.name)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = rt_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "RTSTRUCT"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ref = Dataset()
    ref.FrameOfReferenceUID = frame or uid("frame")
    ref_series = Dataset()
    ref_series.SeriesInstanceUID = series or uid("ct")
    study = Dataset()
    study.RTReferencedSeriesSequence = Sequence([ref_series])
    ref.RTReferencedStudySequence = Sequence([study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([ref])
    ds.StructureSetROISequence = Sequence()
    ds.ROIContourSequence = Sequence()
    for number, (name, contours) in enumerate(rois.items(), start=1):
        item = Dataset()
        item.ROINumber = number
        item.ROIName = name
        ds.StructureSetROISequence.append(item)
        entry = Dataset()
        entry.ReferencedROINumber = number
        entry.ContourSequence = Sequence()
        for points in contours:
            contour = Dataset()
            contour.ContourGeometricType = kind
            contour.NumberOfContourPoints = len(points)
            contour.ContourData = [f"{v:.6g}" for v in np.asarray(points, float).ravel()]
            entry.ContourSequence.append(contour)
        ds.ROIContourSequence.append(entry)
    ds.save_as(out, enforce_file_format=True)
    return out
