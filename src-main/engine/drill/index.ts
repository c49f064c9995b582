export {
  runDrill,
  estimateFull,
  verdict,
  DRILL_SAMPLE_DEFAULTS,
  type DrillOptions,
  type DrillSample,
} from './drill.ts';
export { listDrills, lastDrillOf, recordDrill, type DrillRecord, type RtoVerdict } from './store.ts';
export { renderDrillReportHtml, drillOutcomeText, durationText, rateText, rtoText } from './report.ts';
