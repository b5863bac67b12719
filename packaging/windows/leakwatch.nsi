; Leakwatch's Windows installer, compiled on Linux by Debian's makensis (make windows; the fast
; check is make windows-installer-check). Not Tauri's NSIS bundler: on every system it downloads
; nsis_tauri_utils.dll (a prebuilt plugin) from GitHub, and its template downloads the WebView2
; bootstrapper at install time; this script uses only the plugins Debian's nsis ships
; (docs/platforms.md).
;
; Installs into $PROGRAMFILES64\Leakwatch: leakwatch.exe (CLI and service), leakwatch-app.exe
; (tray app) with WebView2Loader.dll, the ASN and country data (data\), the licences and
; docs\service.md; registers and starts the Windows service (`leakwatch service install`), adds a
; Start-menu entry for the app and an entry in "Apps & features". The uninstaller stops and
; removes the service and deletes these files; the configuration, ignores and history in
; %ProgramData%\Leakwatch stay unless it is run with /PURGE (or the user says so when asked).
;
; makensis -DSTAGE=DIR -DOUTFILE=FILE -DVERSION=X.Y.Z [-DFAST] leakwatch.nsi
;   STAGE holds leakwatch.exe, leakwatch-app.exe, WebView2Loader.dll, data\, docs\ and the licences.
;   FAST: no compression (the test build of make windows-installer-check).

; A 64-bit installer (Debian's nsis ships the amd64-unicode stubs and plugins): what it installs is
; x64 only, and Wine's 64-bit prefix (wine64 without wine32) runs it.
Target amd64-unicode
!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

!ifndef STAGE
  !error "give the staging directory: -DSTAGE=DIR"
!endif
!ifndef OUTFILE
  !error "give the installer's file name: -DOUTFILE=FILE"
!endif
!ifndef VERSION
  !error "give the version: -DVERSION=X.Y.Z"
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Leakwatch"

Name "Leakwatch"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\Leakwatch"
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show
!ifdef FAST
  SetCompress off
!else
  SetCompressor /SOLID lzma
!endif

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "Leakwatch"
VIAddVersionKey "FileDescription" "Leakwatch installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "MIT OR Apache-2.0"

!define MUI_ICON "${STAGE}\icon.ico"
!define MUI_UNICON "${STAGE}\icon.ico"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\leakwatch-app.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start the Leakwatch app"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "Leakwatch needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Leakwatch" SecMain
  SectionIn RO
  SetShellVarContext all
  ; An upgrade: the running service holds leakwatch.exe open; stop and remove it first.
  ${If} ${FileExists} "$INSTDIR\leakwatch.exe"
    DetailPrint "Stopping the Leakwatch service of the installed version"
    nsExec::ExecToLog '"$INSTDIR\leakwatch.exe" service uninstall'
    Pop $0
  ${EndIf}

  SetOutPath "$INSTDIR"
  File "${STAGE}\leakwatch.exe"
  File "${STAGE}\leakwatch-app.exe"
  File /nonfatal "${STAGE}\WebView2Loader.dll"
  File "${STAGE}\icon.ico"
  File "${STAGE}\LICENSE-MIT"
  File "${STAGE}\LICENSE-APACHE"
  SetOutPath "$INSTDIR\data"
  File "${STAGE}\data\*.*"
  SetOutPath "$INSTDIR\docs"
  File "${STAGE}\docs\*.*"
  SetOutPath "$INSTDIR"

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "Leakwatch"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "Leakwatch"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\icon.ico"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1

  CreateDirectory "$SMPROGRAMS\Leakwatch"
  CreateShortcut "$SMPROGRAMS\Leakwatch\Leakwatch.lnk" "$INSTDIR\leakwatch-app.exe" "" "$INSTDIR\icon.ico"

  DetailPrint "Installing and starting the Leakwatch service"
  nsExec::ExecToLog '"$INSTDIR\leakwatch.exe" service install'
  Pop $0
  ${If} $0 != 0
    DetailPrint "leakwatch service install failed (exit code $0)"
    MessageBox MB_OK|MB_ICONEXCLAMATION "The Leakwatch service could not be installed or started (exit code $0). \
      The details are above and in %ProgramData%\Leakwatch\logs\service.log. Live capture needs Npcap \
      (https://npcap.com/#download)." /SD IDOK
    SetErrorLevel 3
  ${EndIf}
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  DetailPrint "Stopping and removing the Leakwatch service"
  nsExec::ExecToLog '"$INSTDIR\leakwatch.exe" service uninstall'
  Pop $0

  Delete "$SMPROGRAMS\Leakwatch\Leakwatch.lnk"
  RMDir "$SMPROGRAMS\Leakwatch"
  Delete "$INSTDIR\leakwatch.exe"
  Delete "$INSTDIR\leakwatch-app.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\icon.ico"
  Delete "$INSTDIR\LICENSE-MIT"
  Delete "$INSTDIR\LICENSE-APACHE"
  RMDir /r "$INSTDIR\data"
  RMDir /r "$INSTDIR\docs"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"

  ; The user's data (configuration, ignores, history, log): only when asked.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    RMDir /r "$APPDATA\Leakwatch"
  ${Else}
    MessageBox MB_YESNO|MB_DEFBUTTON2 "Also delete Leakwatch's settings, ignores and history \
      ($APPDATA\Leakwatch)?" /SD IDNO IDNO keep
    RMDir /r "$APPDATA\Leakwatch"
    keep:
  ${EndIf}
SectionEnd
