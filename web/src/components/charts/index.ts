import { lazy } from 'react';

/**
 * The charts, each its own lazily loaded chunk with the chart library (recharts): pages import them
 * from here and draw them inside <Suspense>, so the app's first load does not carry the library.
 */
export const StackedBarChart = lazy(() => import('./stacked-bar-chart'));
export const LineChart = lazy(() => import('./line-chart'));
export type { StackedSeries } from './stacked-bar-chart';
