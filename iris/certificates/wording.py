"""The certificate's fixed wording in English and the agency's language (pl, uk, ru).

A certificate is printed in two languages at once, English and the holder's, so its text
cannot come from the request's locale. The wording is a controlled text, reviewed like a
legal document and versioned with the code (a changed wording is visible in review and in
the PDFs issued after it), so it lives here rather than in the UI catalogues. Placeholders
use ``str.format`` names.
"""

from __future__ import annotations

LANGUAGES = ("en", "pl", "uk", "ru")

#: Holder country -> the second language printed on its certificate (English otherwise).
LANGUAGE_BY_COUNTRY = {"PL": "pl", "UA": "uk", "RU": "ru", "BY": "ru", "KZ": "ru", "KG": "ru"}

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "title": "Certificate",
        "subtitle": "Ethical International Recruitment",
        "certify": "This is to certify that the management system of",
        "conforms": "has been audited and found to conform to the {standard}, version {version}, for the scope below.",
        "employer_pays": "The holder recruits under the Employer Pays Principle: migrant workers pay no recruitment fees or related costs.",
        "number": "Certificate number",
        "scope": "Scope",
        "corridors": "Recruitment corridors",
        "services": "Services",
        "sites": "Sites",
        "registration": "Registration",
        "issued": "Issued",
        "original_issued": "First issued",
        "expires": "Valid until",
        "certification_body": "Certification body",
        "standard": "Standard",
        "verify": "Verify this certificate",
        "status_note": "Its current status (active, suspended, withdrawn) is shown at this address; this document alone does not prove that the certificate is still valid.",
        "signed_note": "Digitally signed: the attached file {file} states these facts, signed with Ed25519 (key {kid}), and can be checked offline against the published keys.",
        "more": "and {count} more: see the registry",
    },
    "pl": {
        "title": "Certyfikat",
        "subtitle": "Etyczna rekrutacja międzynarodowa",
        "certify": "Niniejszym poświadcza się, że system zarządzania organizacji",
        "conforms": "został poddany audytowi i spełnia wymagania dokumentu {standard}, wersja {version}, w zakresie określonym poniżej.",
        "employer_pays": "Posiadacz certyfikatu rekrutuje zgodnie z zasadą „płaci pracodawca”: pracownicy migrujący nie ponoszą opłat rekrutacyjnych ani związanych z nimi kosztów.",
        "number": "Numer certyfikatu",
        "scope": "Zakres",
        "corridors": "Korytarze rekrutacji",
        "services": "Usługi",
        "sites": "Lokalizacje",
        "registration": "Rejestracja",
        "issued": "Data wydania",
        "original_issued": "Pierwsze wydanie",
        "expires": "Ważny do",
        "certification_body": "Jednostka certyfikująca",
        "standard": "Standard",
        "verify": "Sprawdź ten certyfikat",
        "status_note": "Aktualny status (ważny, zawieszony, cofnięty) podaje strona pod tym adresem; sam dokument nie dowodzi, że certyfikat jest nadal ważny.",
        "signed_note": "Podpisano cyfrowo: załączony plik {file} zawiera te dane podpisane algorytmem Ed25519 (klucz {kid}); można je sprawdzić offline za pomocą opublikowanych kluczy.",
        "more": "i {count} innych: zob. rejestr",
    },
    "uk": {
        "title": "Сертифікат",
        "subtitle": "Етичний міжнародний рекрутинг",
        "certify": "Цим засвідчується, що система управління організації",
        "conforms": "пройшла аудит і відповідає вимогам документа {standard}, версія {version}, у сфері, визначеній нижче.",
        "employer_pays": "Власник сертифіката здійснює рекрутинг за принципом «платить роботодавець»: трудові мігранти не сплачують зборів за працевлаштування та пов’язаних із ним витрат.",
        "number": "Номер сертифіката",
        "scope": "Сфера дії",
        "corridors": "Коридори рекрутингу",
        "services": "Послуги",
        "sites": "Місця діяльності",
        "registration": "Реєстрація",
        "issued": "Дата видачі",
        "original_issued": "Перша видача",
        "expires": "Дійсний до",
        "certification_body": "Орган сертифікації",
        "standard": "Стандарт",
        "verify": "Перевірте цей сертифікат",
        "status_note": "Чинний статус (дійсний, призупинений, відкликаний) наведено за цією адресою; сам документ не доводить, що сертифікат досі дійсний.",
        "signed_note": "Підписано цифровим підписом: вкладений файл {file} містить ці дані, підписані алгоритмом Ed25519 (ключ {kid}); їх можна перевірити офлайн за опублікованими ключами.",
        "more": "і ще {count}: див. реєстр",
    },
    "ru": {
        "title": "Сертификат",
        "subtitle": "Этичный международный наём",
        "certify": "Настоящим удостоверяется, что система менеджмента организации",
        "conforms": "прошла аудит и соответствует требованиям документа {standard}, версия {version}, в области, указанной ниже.",
        "employer_pays": "Владелец сертификата осуществляет наём по принципу «платит работодатель»: трудящиеся-мигранты не оплачивают сборы за трудоустройство и связанные с ним расходы.",
        "number": "Номер сертификата",
        "scope": "Область",
        "corridors": "Коридоры найма",
        "services": "Услуги",
        "sites": "Площадки",
        "registration": "Регистрация",
        "issued": "Дата выдачи",
        "original_issued": "Первичная выдача",
        "expires": "Действителен до",
        "certification_body": "Орган по сертификации",
        "standard": "Стандарт",
        "verify": "Проверьте этот сертификат",
        "status_note": "Текущий статус (действует, приостановлен, отозван) указан по этому адресу; сам документ не подтверждает, что сертификат всё ещё действует.",
        "signed_note": "Подписано цифровой подписью: вложенный файл {file} содержит эти данные, подписанные алгоритмом Ed25519 (ключ {kid}); их можно проверить офлайн по опубликованным ключам.",
        "more": "и ещё {count}: см. реестр",
    },
}


def language_for(country: str, preferred: str | None = None) -> str:
    """The second language of a holder's certificate: its preferred one if printable."""
    if preferred in LANGUAGES:
        return preferred
    return LANGUAGE_BY_COUNTRY.get(country.upper(), "en")
