import type { DataConfig } from './config';
import { openCsvSource } from './csv-source';
import type { DataSource } from './dataset';
import { openFolderSource } from './folder-source';
import { openIdxSource } from './idx-source';
import { openMnistCompositesSource, openMnistPackageSource } from './mnist-package-source';

/** The data source a data config describes (its files are listed or read here; images are not decoded). */
export function openDataSource(config: DataConfig): DataSource {
  switch (config.source) {
    case 'idx':
      return openIdxSource(config);
    case 'folder':
      return openFolderSource(config);
    case 'csv':
      return openCsvSource(config);
    case 'mnist-package':
      return openMnistPackageSource(config);
    case 'mnist-composites':
      return openMnistCompositesSource(config);
  }
}
