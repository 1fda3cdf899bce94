"""The due-diligence questionnaire (self-assessment): versioned definitions, responses,
evidence and scoring. DOMAIN.md section 6 is the content; ``definitions/`` holds the data."""
