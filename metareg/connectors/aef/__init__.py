"""The Agreed Electronic Format as a wire format: column definitions (`columns`), the
reader of XLSX/CSV tables (`reader`), the workbook layout (`workbook`) and the
connector over a Party's published AEF (`connector`)."""
